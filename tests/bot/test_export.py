"""The lead's file: CSV with BOM for Excel, Markdown with escaped cells, same ranking."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from tests.bot.conftest import ANA, BO, DAY, LEAD
from topicscout import export, service
from topicscout.cli import main
from topicscout.views import IdeaView, Link, ShortlistEntry, Tally

TZ = ZoneInfo("Asia/Shanghai")
SEEN = datetime(2026, 1, 19, 16, 5, tzinfo=UTC)


def entry(title: str, tally: Tally, voters: tuple[tuple[str, str], ...] = ()) -> ShortlistEntry:
    view = IdeaView(idea_id=1, position=1, story_key=title, title=title, why="weibo #9→#2",
                    angle="brand", risky=False, platforms=("weibo", "baidu"), matched=("AI",),
                    terms=("ai", "春晚"), first_seen=SEEN,
                    links=(Link("weibo", title, "https://m.weibo.cn/search?q=(a)|b"),))
    return ShortlistEntry(view, tally, voters)


def test_csv_starts_with_a_bom_and_keeps_chinese() -> None:
    data = export.to_csv([entry("马年春晚, \"节目\"", Tally(up=2, star=1), (("安娜", "up"),))], TZ)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(export.COLUMNS)
    assert rows[1][5] == "马年春晚, \"节目\""
    assert rows[1][9] == "2026-01-20 00:05"  # first seen, local time
    assert rows[1][12] == "安娜 👍"
    assert data.count(b"\r\n") == 2


def test_markdown_cells_escape_pipes_and_stay_on_one_line() -> None:
    data = export.to_markdown([entry("A | B *C*\nD", Tally(up=1))], TZ, "小智 | shortlist")
    text = data.decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "# 小智 \\| shortlist"
    row = lines[4]
    assert "A \\| B \\*C\\* D" in row
    assert "[weibo](https://m.weibo.cn/search?q=%28a%29%7Cb)" in row
    # a row has exactly as many unescaped pipes as the header
    unescaped = row.replace("\\|", "")
    assert unescaped.count("|") == lines[2].count("|")


def test_cli_export_writes_the_ranked_shortlist(corpus_app: service.App,
                                                tmp_path: Path) -> None:
    digest = service.make_digest(corpus_app, DAY, kind="daily")
    a, b, c = digest.idea_ids[:3]
    at = DAY
    service.cast_vote(corpus_app, a, ANA, "ana", "down", at)
    service.cast_vote(corpus_app, b, ANA, "ana", "star", at)
    service.cast_vote(corpus_app, c, LEAD, "lead", "up", at)
    service.cast_vote(corpus_app, c, BO, "bo", "up", at + timedelta(minutes=1))
    config = corpus_app.config.path
    corpus_app.close()
    out = tmp_path / "shortlist.csv"
    result = CliRunner().invoke(main, ["export", "--config", str(config), "--output", str(out),
                                       "--since", "2026-01-13T00:00:00+08:00"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    titles = [digest.ideas[i].topic.title for i in (2, 1, 0)]
    assert [r["title"] for r in rows] == titles
    assert rows[0]["voters"] == "lead 👍, bo 👍"

    md = CliRunner().invoke(main, ["export", "--config", str(config), "--format", "md"])
    assert md.exit_code == 0
    assert md.stdout_bytes.decode("utf-8").count("\n| ") == 4  # header + 3 ideas


def test_cli_export_refuses_a_bad_since(corpus_app: service.App) -> None:
    result = CliRunner().invoke(main, ["export", "--config", str(corpus_app.config.path),
                                       "--since", "last week"])
    assert result.exit_code == 2
    assert "--since" in result.output
