from __future__ import annotations

import gzip
import json
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import DEMO
from topicscout.cli import main
from topicscout.service import import_files
from topicscout.store import Store


def _line(**overrides: object) -> str:
    record = {"platform": "weibo", "title": "马年春晚", "url": None, "rank": 3, "heat": 12,
              "seen_at": "2026-02-01T09:00:00+08:00"}
    record.update(overrides)
    return json.dumps(record, ensure_ascii=False)


def test_bad_lines_are_reported_with_file_and_line_and_the_rest_is_imported(
        tmp_path: Path, store: Store) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([
        _line(), "{not json", _line(title=""), _line(seen_at="2026-02-01T09:00:00"),
        _line(rank="first"), "[1, 2]", _line(title="另一个", extra="ignored"),
    ]) + "\n", encoding="utf-8")
    report = import_files(store, [path])
    assert report.lines == 2 and report.snapshots_new == 2
    assert [(b.line, b.reason.split(" ")[0]) for b in report.bad] == [
        (2, "not"), (3, "missing"), (4, "seen_at"), (5, "rank"), (6, "not")]
    assert str(report.bad[0]).startswith(f"{path}:2: ")


def test_gzip_and_plain_files_import_the_same_rows(tmp_path: Path) -> None:
    text = "\n".join(_line(title=f"t{n}", rank=n + 1) for n in range(5)) + "\n"
    plain, packed = tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz"
    plain.write_text(text, encoding="utf-8")
    packed.write_bytes(gzip.compress(text.encode()))
    one, two = Store.open(tmp_path / "1.sqlite"), Store.open(tmp_path / "2.sqlite")
    assert import_files(one, [plain]).snapshots_new == import_files(two, [packed]).snapshots_new
    assert one.counts() == two.counts()


def test_pinned_rank_zero_is_kept_as_pinned_not_as_rank(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "baidu.jsonl"
    path.write_text(_line(platform="baidu", rank=0) + "\n", encoding="utf-8")
    import_files(store, [path])
    (row,) = store.iter_rows("SELECT rank, pinned FROM snapshots")
    assert row == {"rank": None, "pinned": 1}


def test_cli_import_twice_adds_zero_rows_the_second_time(tmp_path: Path) -> None:
    files = [str(p) for p in sorted(DEMO.glob("zhihu*"))]
    db = str(tmp_path / "t.sqlite")
    runner = CliRunner()
    first = runner.invoke(main, ["import", *files, "--db", db])
    second = runner.invoke(main, ["import", *files, "--db", db])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "0 new items, 0 new snapshots" in second.output
    assert "0 new snapshots" not in first.output
