"""The lead's shortlist as a file: CSV (UTF-8 with BOM, for Excel) or a Markdown table.

Pure functions over :class:`ShortlistEntry` lists; the ranking is decided in the service, so
the CLI, /shortlist and /export show the same order.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import tzinfo

from topicscout.views import VOTE_EMOJI, ShortlistEntry

FORMATS = ("csv", "md")
COLUMNS = ("rank", "net", "up", "down", "star", "title", "why", "angle", "platforms",
           "first_seen", "keywords", "links", "voters")
# Excel guesses a legacy code page for CSV unless the file starts with a byte order mark.
BOM = "\ufeff"


def _keywords(entry: ShortlistEntry) -> str:
    view = entry.view
    return ", ".join(dict.fromkeys((*view.matched, *view.terms[:4])))


def _cells(rank: int, entry: ShortlistEntry, tz: tzinfo) -> list[str]:
    view, tally = entry.view, entry.tally
    return [
        str(rank), str(tally.net), str(tally.up), str(tally.down), str(tally.star),
        view.title, view.why, view.angle, ", ".join(view.platforms),
        view.first_seen.astimezone(tz).strftime("%Y-%m-%d %H:%M"), _keywords(entry),
        " ".join(link.url for link in view.links),
        ", ".join(f"{name} {VOTE_EMOJI[value]}" for name, value in entry.voters),
    ]


def to_csv(entries: Sequence[ShortlistEntry], tz: tzinfo) -> bytes:
    """CSV bytes, UTF-8 with BOM, CRLF line ends (what Excel expects)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for rank, entry in enumerate(entries, start=1):
        writer.writerow(_cells(rank, entry, tz))
    return (BOM + buffer.getvalue()).encode("utf-8")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, specials (pipes too) escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _md_link(platform: str, url: str) -> str:
    safe = (url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
            .replace("|", "%7C"))
    return f"[{md_cell(platform)}]({safe})"


def to_markdown(entries: Sequence[ShortlistEntry], tz: tzinfo, title: str) -> bytes:
    """A Markdown document: a heading and one table row per idea."""
    lines = [f"# {md_cell(title)}", ""]
    if not entries:
        lines.append("No votes on any idea in this period.")
        return ("\n".join(lines) + "\n").encode("utf-8")
    header = ("#", "👍−👎", "👍", "👎", "⭐", "title", "why", "platforms", "first seen",
              "keywords", "links", "voters")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for rank, entry in enumerate(entries, start=1):
        c = _cells(rank, entry, tz)
        links = " ".join(_md_link(link.platform, link.url) for link in entry.view.links)
        row = [*c[:5], md_cell(c[5]), md_cell(c[6]), md_cell(c[8]), c[9], md_cell(c[10]),
               links, md_cell(c[12])]
        lines.append("| " + " | ".join(row) + " |")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render(entries: Sequence[ShortlistEntry], fmt: str, tz: tzinfo, title: str) -> bytes:
    if fmt == "csv":
        return to_csv(entries, tz)
    if fmt == "md":
        return to_markdown(entries, tz, title)
    raise ValueError(f"unknown export format {fmt!r}")
