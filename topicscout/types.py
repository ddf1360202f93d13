"""Small frozen types shared by every stage, and the rules for an item's identity.

``sources`` produces :class:`Item`s, the store keeps them, ``trends`` reads them back. Identity
lives here, once, so the crawler and the importer can never disagree about whether two
observations are the same item.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of one list or feed as seen in one fetch."""

    platform: str  # the list or feed it was seen on: "weibo", "36kr", "sspai"
    title: str  # display text as published (never used as identity on its own)
    seen_at: datetime  # aware UTC: when the fetch that saw it happened
    url: str | None = None  # link for people; may be a search URL for hot-list words
    rank: int | None = None  # 1-based position on the list; None for feeds and ads
    heat: int | None = None  # the platform's own heat figure, as an integer
    pinned: bool = False  # a pinned / promoted slot, not an organic rank
    guid: str | None = None  # a feed entry's id; when set it decides identity
    published_at: datetime | None = None  # the publisher's own date, if any (feeds)

    @property
    def id(self) -> str:
        return item_id(self.platform, self.title, self.guid)


_SPACES = re.compile(r"\s+")


def normalize_for_identity(title: str) -> str:
    """Fold the cosmetic differences hot lists introduce between fetches (width, case, #tags#)."""
    text = unicodedata.normalize("NFKC", title).casefold().replace("#", "")
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1 << 16)  # a hot-list title is seen dozens of times a day: hash it once
def item_id(platform: str, title: str, guid: str | None = None) -> str:
    """Stable id: platform + feed guid when there is one, else platform + normalised title.

    Hot-list URLs are not used: several platforms put the current rank or a session token in
    them, which would make one item look new on every fetch.
    """
    key = guid.strip() if guid else normalize_for_identity(title)
    digest = hashlib.blake2b(f"{platform}\x1f{key}".encode(), digest_size=10)
    return digest.hexdigest()


def to_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is refused because guessing its zone is how 8-hour bugs start."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} (a timezone is required)")
    return moment.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)
