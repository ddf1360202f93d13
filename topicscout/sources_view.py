"""Rich rendering of crawls and source health (`topicscout crawl`, `topicscout sources`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from topicscout.service import CrawlReport, SourceHealth

STATUS_STYLE = {"ok": "green", "not modified": "cyan", "failed": "bold red", "error": "yellow",
                "backing off": "yellow", "failing": "bold red", "pending": "dim",
                "disabled": "dim", "not in config": "dim"}


def _when(moment: datetime | None, tz: Any) -> str:
    return moment.astimezone(tz).strftime("%m-%d %H:%M") if moment else "—"


def render_crawl(console: Console, report: CrawlReport) -> None:
    table = Table(title="crawl", title_justify="left")
    for column, justify in (("source", "left"), ("status", "left"), ("items", "right"),
                            ("new", "right"), ("time", "right"), ("error", "left")):
        table.add_column(column, justify=justify,  # type: ignore[arg-type]
                         overflow="fold", max_width=70 if column == "error" else None)
    order = {"failed": 0, "ok": 1, "not modified": 2}
    for o in sorted(report.outcomes, key=lambda o: (order[o.status], o.name)):
        # Error lines quote upstream text ("[/]" in an API message): never read as markup.
        table.add_row(escape(o.name), f"[{STATUS_STYLE[o.status]}]{o.status}[/]", str(o.items),
                      str(o.items_new), f"{o.elapsed:.1f}s", escape(o.error or ""))
    console.print(table, soft_wrap=False)
    ok = len(report.outcomes) - len(report.failed)
    console.print(f"{len(report.outcomes)} source(s) fetched: {ok} ok, {len(report.failed)} "
                  f"failed; {report.items_new} new item(s)"
                  + (f"; {len(report.not_due)} not due yet" if report.not_due else ""),
                  highlight=False)


def render_health(console: Console, rows: list[SourceHealth], tz: Any) -> None:
    # The error text goes under the table, one line per source: as a column it squeezed the
    # others so that at 80 columns names and words broke mid-word ("bilibil / i").
    table = Table(title="sources", title_justify="left")
    for column in ("source", "kind", "status", "last ok", "fails", "next due", "items"):
        table.add_column(column, no_wrap=column not in ("last ok", "next due"),
                         justify="right" if column in ("fails", "items") else "left")
    for r in rows:
        table.add_row(escape(r.name), r.kind, f"[{STATUS_STYLE.get(r.status, '')}]{r.status}[/]",
                      _when(r.last_success, tz), str(r.consecutive_failures),
                      _when(r.next_due, tz) if r.enabled else "—", str(r.items_total))
    console.print(table, soft_wrap=False)
    for r in rows:
        if r.last_error:
            console.print(f"[bold]{escape(r.name)}[/] last error {_when(r.last_error_at, tz)}: "
                          f"{escape(r.last_error)}", highlight=False, soft_wrap=False)
