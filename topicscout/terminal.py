"""Rich rendering for the terminal: digests and topic tables people can read at a glance."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from topicscout.service import Digest
from trends.model import Topic

ANGLE_LABEL = {
    "brand": "品牌相关 brand", "breakout": "借势 breakout", "watch": "⚠ watch, do not ride",
}
ANGLE_STYLE = {"brand": "bold green", "breakout": "cyan", "watch": "bold red"}


def _local(moment: Any, tz: Any, fmt: str = "%m-%d %H:%M") -> str:
    return moment.astimezone(tz).strftime(fmt)


def render_digest(console: Console, digest: Digest, tz: Any) -> None:
    header = (f"{digest.brand} · 选题 digest · {_local(digest.as_of, tz, '%Y-%m-%d %H:%M %Z')}"
              f" · {digest.new_topics} new rising stories")
    if not digest.ideas:
        console.print(Panel("No rising stories in the data for this moment.", title=header),
                      soft_wrap=False)
        return
    blocks: list[RenderableType] = []
    for position, idea in enumerate(digest.ideas, start=1):
        t = idea.topic
        line = Text.assemble((f"{position:>2}. ", "bold"), (t.title, "bold"), "  ",
                             (f"[{ANGLE_LABEL[idea.angle]}]", ANGLE_STYLE[idea.angle]))
        detail = Text(f"↗ {t.why}", style="yellow")
        meta = f"{' · '.join(t.platforms)} · first seen {_local(t.first_seen, tz)}"
        if t.relevance.matched:
            meta += f" · matched {', '.join(t.relevance.matched)}"
        if t.safety.risky:
            meta += f" · risk: {', '.join(t.safety.flags)}"
        meta += f" · keywords {' '.join(t.terms[:4])}"
        blocks += [line, Padding(detail, (0, 0, 0, 4)),
                   Padding(Text(meta, style="dim"), (0, 0, 0, 4))]
    # soft_wrap=False: the CLI's console soft-wraps (so JSON lines stay whole), which inside a
    # panel would crop the end of every long line instead of wrapping it
    console.print(Panel(Group(*blocks), title=header, title_align="left"), soft_wrap=False)


def render_topics(console: Console, topics: list[Topic], tz: Any, title: str) -> None:
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("#", justify="right")
    table.add_column("topic", max_width=40)
    table.add_column("score", justify="right")
    table.add_column("why it is rising", max_width=50)
    table.add_column("platforms")
    table.add_column("first seen")
    table.add_column("brand")
    for position, t in enumerate(topics, start=1):
        brand = ", ".join(t.relevance.matched) or ""
        if t.safety.risky:
            brand = (brand + " ⚠").strip()
        table.add_row(str(position), t.title, f"{t.score:.2f}", t.why, ", ".join(t.platforms),
                      _local(t.first_seen, tz), brand)
    console.print(table, soft_wrap=False)
