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
