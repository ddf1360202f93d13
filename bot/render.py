"""Telegram text and keyboards, as pure functions of views (HTML parse mode, all escaped).

Nothing here talks to Telegram or the database: handlers fetch views and tallies through the
service and hand them in, so every message can be checked in a test by reading its text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from topicscout.views import VOTE_EMOJI, IdeaView, Link, SearchHit, ShortlistEntry, Tally

if TYPE_CHECKING:  # the service imports the trends pipeline; rendering needs only the type
    from topicscout.service import SourceHealth

MAX_MESSAGE = 4096  # Telegram's limit per message (we count UTF-16 units of the HTML: stricter)
MAX_IDEAS_PER_MESSAGE = 10  # 3 buttons each; keeps a keyboard far below Telegram's button cap
MAX_TITLE = 200  # a field is cut so that one idea always fits well inside one message
MAX_WHY = 400
ANGLE_LABEL = {"brand": "🎯 品牌相关", "breakout": "🔥 借势", "watch": "⚠️ 谨慎 watch"}
VOTE_CODE = {"up": "u", "down": "d", "star": "s"}  # callback data: v:<idea id>:<code>
VOTE_OF_CODE = {code: value for value, code in VOTE_CODE.items()}
_VOTE_DATA = re.compile(r"v:([0-9]{1,19}):([uds])")  # 19 digits: SQLite's largest rowid


@dataclass(frozen=True)
class Chunk:
    """One Telegram message: HTML text and the ideas whose buttons it carries."""

    text: str
    idea_ids: tuple[int, ...]


@dataclass(frozen=True)
class DigestHeader:
    brand: str
    as_of: datetime  # aware UTC
    new_topics: int  # rising stories first seen within the window


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


def render_header(header: DigestHeader, tz: tzinfo, count: int) -> str:
    local = header.as_of.astimezone(tz)
    return (f"<b>{esc(header.brand)}</b> · 选题 digest · {local:%Y-%m-%d %H:%M} "
            f"{esc(local.tzname() or '')}\n"
            f"{header.new_topics} new rising stories · {count} ideas below")


def render_idea(view: IdeaView, tz: tzinfo) -> str:
    """One idea block: title, why, platforms, keywords, safety mark, 1–3 links."""
    label = ANGLE_LABEL.get(view.angle, view.angle)
    lines = [f"<b>{view.position}. {esc(cut(view.title, MAX_TITLE))}</b>  {esc(label)}",
             *_why_and_where(view, tz)]
    words = esc(", ".join(view.matched[:6]))
    if view.risky:
        lines.append("⚠️ <i>brand safety: watch only, do not ride this story</i>"
                     + (f" ({words})" if words else ""))
    elif words:
        lines.append(f"🔑 {words}")
    if view.links:
        lines.append(f"🔗 {render_links(view.links)}")
    return "\n".join(lines)


def _why_and_where(view: IdeaView, tz: tzinfo) -> list[str]:
    """Why it is rising, where and since when: the digest's lines /shortlist repeats."""
    return [f"↗ {esc(cut(view.why, MAX_WHY))}",
            f"📍 {esc(' · '.join(view.platforms))} · first seen "
            f"{view.first_seen.astimezone(tz):%m-%d %H:%M}"]


def render_links(links: Sequence[Link]) -> str:
    """``<a>`` tags labelled by platform; a repeated platform gets a number (weibo 2)."""
    seen: dict[str, int] = {}
    tags = []
    for link in links:
        n = seen[link.platform] = seen.get(link.platform, 0) + 1
        label = link.platform if n == 1 else f"{link.platform} {n}"
        tags.append(f'<a href="{esc(link.url)}">{esc(label)}</a>')
    return " · ".join(tags)


def split_blocks(head: str, blocks: Sequence[tuple[str, int | None]],
                 limit: int = MAX_MESSAGE,
                 per_message: int = MAX_IDEAS_PER_MESSAGE) -> list[Chunk]:
    """Pack blocks into messages of at most ``limit`` units, only ever between blocks."""
    chunks: list[Chunk] = []
    text, count = head, 0
    ids: list[int] = []
    for block, idea_id in blocks:
        candidate = f"{text}\n\n{block}" if text else block
        if text and (telegram_length(candidate) > limit or count >= per_message):
            chunks.append(Chunk(text, tuple(ids)))
            text, ids, count, candidate = "", [], 0, block
        text = candidate
        count += 1
        if idea_id is not None:
            ids.append(idea_id)
    if text:
        chunks.append(Chunk(text, tuple(ids)))
    return chunks


def render_digest(header: DigestHeader, views: Sequence[IdeaView], tz: tzinfo) -> list[Chunk]:
    """The digest as one or more messages, split between ideas."""
    head = render_header(header, tz, len(views))
    if not views:
        return [Chunk(head + "\n\nNo rising stories in the data for this moment.", ())]
    return split_blocks(head, [(render_idea(v, tz), v.idea_id) for v in views])


def vote_data(idea_id: int, value: str) -> str:
    return f"v:{idea_id}:{VOTE_CODE[value]}"


def parse_vote_data(data: str | None) -> tuple[int, str] | None:
    """``v:<idea id>:<u|d|s>`` -> (idea id, vote); None for anything else."""
    match = _VOTE_DATA.fullmatch(data or "")
    if match is None:
        return None
    return int(match.group(1)), VOTE_OF_CODE[match.group(2)]


def vote_keyboard(state: Sequence[tuple[int, int, Tally]]) -> InlineKeyboardMarkup | None:
    """One row per idea: ``N 👍 up`` / ``👎 down`` / ``⭐ star`` with live counts."""
    if not state:
        return None
    rows = []
    for idea_id, position, tally in state:
        counts = {"up": tally.up, "down": tally.down, "star": tally.star}
        rows.append([
            InlineKeyboardButton(
                f"{position}. {VOTE_EMOJI[v]} {counts[v]}" if v == "up"
                else f"{VOTE_EMOJI[v]} {counts[v]}",
                callback_data=vote_data(idea_id, v))
            for v in ("up", "down", "star")])
    return InlineKeyboardMarkup(rows)


def keyboard_ids(markup: InlineKeyboardMarkup | None) -> list[int]:
    """The idea ids a message's keyboard votes on (to rebuild it after a vote)."""
    ids: list[int] = []
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            parsed = parse_vote_data(button.callback_data if isinstance(
                button.callback_data, str) else None)
            if parsed and parsed[0] not in ids:
                ids.append(parsed[0])
    return ids


def vote_toast(held: str | None, value: str) -> str:
    """The short answer to a tap."""
    if held is None:
        return f"{VOTE_EMOJI[value]} vote withdrawn"
    return f"{VOTE_EMOJI[held]} counted"


def render_trends(rows: Sequence[tuple[str, str, Sequence[str]]], as_of: datetime,
                  tz: tzinfo) -> str:
    """Compact /trends: (title, why, platforms) per line."""
    head = f"<b>Rising now</b> · {as_of.astimezone(tz):%m-%d %H:%M}"
    if not rows:
        return head + "\nNothing rising in the data for this moment."
    lines = [f"{n}. <b>{esc(cut(title, 80))}</b> · {esc(cut(why, 120))} "
             f"<i>({esc(', '.join(platforms))})</i>"
             for n, (title, why, platforms) in enumerate(rows, start=1)]
    return fit("\n".join([head, *lines]))


def render_search(words: str, hits: Sequence[SearchHit], tz: tzinfo) -> str:
    head = f"🔎 <b>{esc(cut(words, 60))}</b>"
    if not hits:
        return head + "\nNo stored headline of the last days matches."
    lines = []
    for hit in hits:
        title = esc(cut(hit.title, 100))
        if hit.url:
            title = f'<a href="{esc(hit.url)}">{title}</a>'
        rank = f" #{hit.best_rank}" if hit.best_rank else ""
        lines.append(f"• {title} · {esc(', '.join(hit.platforms))}{rank} · "
                     f"{hit.last_seen.astimezone(tz):%m-%d %H:%M}")
    return fit("\n".join([head, *lines]))


def render_top(entries: Sequence[ShortlistEntry], title: str, *, detailed: bool,
               tz: tzinfo) -> list[str]:
    """/top (one line each) and /shortlist (with why and links), split between entries."""
    head = f"<b>{esc(title)}</b>"
    if not entries:
        return [head + "\nNo votes on any idea in this period."]
    blocks = []
    for rank, entry in enumerate(entries, start=1):
        t = entry.tally
        line = (f"{rank}. <b>{esc(cut(entry.view.title, MAX_TITLE))}</b> "
                f"👍 {t.up} 👎 {t.down} ⭐ {t.star}")
        if detailed:
            links = render_links(entry.view.links)
            line = "\n".join([line, *_why_and_where(entry.view, tz),
                              *([f"🔗 {links}"] if links else [])])
        blocks.append((line, None))
    return [c.text for c in split_blocks(head, blocks, per_message=50)]


def fit(text: str) -> str:
    """Cut a line-based message between lines so it stays under the limit."""
    lines = text.split("\n")
    while telegram_length("\n".join(lines)) > MAX_MESSAGE and len(lines) > 1:
        lines.pop()
    return "\n".join(lines)


STATUS_MARK = {"ok": "✅", "error": "⚠️", "backing off": "⚠️", "failing": "❌",
               "pending": "⏳", "disabled": "⏸", "not in config": "➖"}


def render_sources(rows: Sequence[SourceHealth], tz: tzinfo) -> str:
    """Source health as `topicscout sources` shows it: one line per source, status first."""
    if not rows:
        return "No sources in the config."
    lines = ["<b>Sources</b>"]
    for row in rows:
        line = f"{STATUS_MARK.get(row.status, '•')} {esc(row.name)} · {esc(row.status)}"
        if row.last_success is not None:
            line += f" · last ok {row.last_success.astimezone(tz):%m-%d %H:%M}"
        if row.items_total:
            line += f" · {row.items_total} items"
        if row.consecutive_failures:
            line += (f" · {row.consecutive_failures} failures in a row · "
                     f"{esc(cut(row.last_error or '', 120))}")
        lines.append(line)
    return fit("\n".join(lines))
