"""What people see of an idea, built from one shape whatever its origin.

A fresh digest (``trends.model.Idea``) and an idea read back from the database (an old digest,
a shortlist) both become an :class:`IdeaView`, through the same function, so the Telegram
message, the keyboard and the export can never disagree about an idea.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

VOTE_VALUES = ("up", "down", "star")
VOTE_EMOJI = {"up": "👍", "down": "👎", "star": "⭐"}  # on buttons, in lists and in exports
MAX_LINKS = 3


@dataclass(frozen=True)
class Link:
    """One piece of evidence a reader can open."""

    platform: str  # where the headline was seen
    title: str  # the headline as published there
    url: str  # http(s) only


@dataclass(frozen=True)
class IdeaView:
    """One digest entry as shown to people."""

    idea_id: int | None  # None for a digest that was not recorded (no votes possible)
    position: int  # 1-based place in its digest
    story_key: str  # stable across digests: one story, however often suggested
    title: str
    why: str  # why it is rising, in words
    angle: str  # "brand", "breakout" or "watch"
    risky: bool  # brand safety: do not ride it
    platforms: tuple[str, ...]
    matched: tuple[str, ...]  # brand keywords (or, for risky stories, the words that flagged it)
    terms: tuple[str, ...]  # the story's characteristic words
    first_seen: datetime  # aware UTC
    links: tuple[Link, ...]  # at most MAX_LINKS, one per platform first


@dataclass(frozen=True)
class Tally:
    """Votes on one idea."""

    up: int = 0
    down: int = 0
    star: int = 0

    @property
    def net(self) -> int:
        return self.up - self.down

    @classmethod
    def of(cls, counts: dict[str, int]) -> Tally:
        return cls(up=counts.get("up", 0), down=counts.get("down", 0),
                   star=counts.get("star", 0))


@dataclass(frozen=True)
class ShortlistEntry:
    """A story the team voted on, with votes merged over every digest that suggested it."""

    view: IdeaView  # the latest suggestion of the story
    tally: Tally  # one vote per person: their latest on any suggestion of the story
    voters: tuple[tuple[str, str], ...]  # (name, value), in voting order


@dataclass(frozen=True)
class SearchHit:
    """A stored headline matching /search, merged across platforms by title."""

    title: str
    platforms: tuple[str, ...]
    url: str | None
    best_rank: int | None
    last_seen: datetime


def is_web_url(url: object) -> bool:
    """Only plain http(s) links go into messages: Telegram refuses the rest, and so do we."""
    if not isinstance(url, str) or any(c.isspace() for c in url) or len(url) > 1000:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def pick_links(items: list[dict[str, Any]]) -> tuple[Link, ...]:
    """Up to MAX_LINKS evidence links, a different platform first, in evidence order."""
    usable = [i for i in items if is_web_url(i.get("url"))]
    chosen: list[dict[str, Any]] = []
    for item in usable:  # first pass: one per platform
        if item["platform"] not in {c["platform"] for c in chosen}:
            chosen.append(item)
    for item in usable:  # then fill up
        if item not in chosen:
            chosen.append(item)
    return tuple(Link(c["platform"], c["title"], c["url"]) for c in chosen[:MAX_LINKS])


def view_from_row(row: dict[str, Any]) -> IdeaView:
    """An idea row (as decoded by the store: lists and datetimes) -> IdeaView."""
    return IdeaView(
        idea_id=row.get("id"), position=int(row.get("position") or 0),
        story_key=row["story_key"], title=row["title"], why=row["why"], angle=row["angle"],
        risky=row["safety"] == "risky", platforms=tuple(row["platforms"]),
        matched=tuple(row["matched"]), terms=tuple(row["terms"]),
        first_seen=row["first_seen"], links=pick_links(list(row["items"])),
    )
