from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from tests.conftest import DEMO
from topicscout import service
from topicscout.config import Config
from topicscout.store import Store
from topicscout.terminal import render_digest


def test_the_digest_panel_wraps_long_lines_on_a_soft_wrapping_console(tmp_path: Path) -> None:
    app = service.App(config=Config(), store=Store.open(tmp_path / "t.sqlite"))
    service.import_files(app.store, sorted(DEMO.glob("*.jsonl.gz")))
    digest = service.make_digest(app, datetime.fromisoformat("2026-02-13T09:30:00+08:00"))
    app.close()
    out = io.StringIO()
    # the CLI's console soft-wraps so JSON stays on one line; a panel must still wrap, not crop
    console = Console(file=out, width=60, soft_wrap=True, color_system=None)
    render_digest(console, digest, ZoneInfo("Asia/Shanghai"))
    flat = "".join(line.strip(" │") for line in out.getvalue().splitlines())
    for idea in digest.ideas:
        assert idea.topic.why.replace(" ", "") in flat.replace(" ", "")


def test_the_health_table_keeps_names_whole_and_errors_readable_at_80_columns() -> None:
    from topicscout.service import SourceHealth
    from topicscout.sources_view import render_health

    error = "baidu: expected data.cards[0].content list, got null (HTTP 200, 1.2 kB)"
    rows = [SourceHealth(name=name, kind="hotlist", enabled=True, status=status,
                         last_success=None, last_error=err, last_error_at=None,
                         consecutive_failures=fails, next_due=None, items_total=0)
            for name, status, err, fails in (("newsnow-wallstreetcn", "pending", None, 0),
                                             ("baidu", "failing", error, 6))]
    out = io.StringIO()
    render_health(Console(file=out, width=80, color_system=None), rows, ZoneInfo("UTC"))
    text = out.getvalue()
    assert "│ newsnow-wallstreetcn │ hotlist" in text and "│ failing" in text
    assert error in " ".join(line.strip() for line in text.splitlines())
