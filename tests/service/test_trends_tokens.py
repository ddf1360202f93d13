"""Tokens of titles are stored, so a new process need not tokenize (nor load jieba) again."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from topicscout import service
from topicscout.config import Config
from topicscout.errors import StorageError
from topicscout.store import Store
from topicscout.types import Item

NOW = datetime(2026, 2, 13, 1, 30, tzinfo=UTC)


def _items() -> list[Item]:
    return [Item(platform="weibo", title=f"孙龙短道速滑摘银第{n}条", rank=n + 1,
                 seen_at=NOW - timedelta(hours=h)) for n in range(5) for h in range(3)]


def test_a_second_process_reuses_the_stored_tokens(store: Store) -> None:
    store.add_items(_items())
    first = service.App(config=Config(), store=store)
    before = service.analyze_at(first, NOW)
    assert first.tokenizer(first.brand()).dictionary_loaded
    stored = store.title_tokens(first.tokenizer(first.brand()).signature,
                                [i.title for i in _items()])
    assert len(stored) == 5 and all("孙龙" in text for text in stored.values())

    second = service.App(config=Config(), store=store)  # a new process: an empty tokenizer
    after = service.analyze_at(second, NOW)
    assert not second.tokenizer(second.brand()).dictionary_loaded  # nothing tokenized again
    assert [t.title for t in after.topics] == [t.title for t in before.topics]


def test_tokens_are_kept_per_tokenizer_signature(store: Store) -> None:
    store.save_title_tokens("sig-a", {"标题": "标题"})
    assert store.title_tokens("sig-b", ["标题"]) == {}
    assert store.title_tokens("sig-a", ["标题", "别的"]) == {"标题": "标题"}


def test_a_read_only_database_still_answers(tmp_path: Path) -> None:
    path = tmp_path / "ro.sqlite"
    writable = Store.open(path)
    writable.add_items(_items())
    writable.close()
    readonly = Store(sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True)),
                     path)
    with pytest.raises(StorageError):
        readonly.save_title_tokens("sig", {"标题": "标题"})
    app = service.App(config=Config(), store=readonly)
    assert service.analyze_at(app, NOW).topics  # tokens could not be stored; no matter
    readonly.close()


def test_a_keyword_change_replaces_the_tokenizer_instead_of_adding_one(store: Store) -> None:
    app = service.App(config=Config(), store=store)
    first = app.tokenizer(app.brand())
    assert app.tokenizer(app.brand()) is first  # same words: same tokenizer, same cache
    service.change_keyword(app, "短道速滑", True, 1, NOW)
    second = app.tokenizer(app.brand())
    assert second is not first and "短道速滑" in second.user_words
    # the old one, and its jieba dictionary, can go
    assert app._tokenizer is not None and app._tokenizer[1] is second
