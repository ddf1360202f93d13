"""As-of causality: a digest "as of T" is what a live run at T would have produced."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from tests.conftest import DEMO
from topicscout.config import Config
from topicscout.service import App, digest_to_json, import_files, make_digest
from topicscout.snapshots import BadLine, read_snapshot_file
from topicscout.store import Store

AS_OF = datetime.fromisoformat("2026-02-12T09:30:00+08:00")


def _digest_json(app: App) -> dict[str, object]:
    result = digest_to_json(make_digest(app, AS_OF, record=False), app.config.digest.tz)
    return json.loads(json.dumps(result, ensure_ascii=False))


def test_data_after_as_of_never_changes_the_digest(tmp_path: Path) -> None:
    files = sorted(DEMO.glob("*.jsonl.gz"))
    everything = App(Config(), Store.open(tmp_path / "all.sqlite"))
    import_files(everything.store, files)

    past_only = App(Config(), Store.open(tmp_path / "past.sqlite"))
    bad: list[BadLine] = []
    past_only.store.add_items(
        item for path in files for item in read_snapshot_file(path, bad) if item.seen_at <= AS_OF)

    with_future, without_future = _digest_json(everything), _digest_json(past_only)
    assert with_future["ideas"], "the demo days should produce ideas"
    assert with_future == without_future
    assert everything.store.counts()["snapshots"] > past_only.store.counts()["snapshots"]
