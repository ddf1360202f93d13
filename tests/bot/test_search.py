"""/search's full-text index: jieba tokens in FTS5, brought up to date by each search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from tests.bot.conftest import DAY
from topicscout import service
from topicscout.fulltext import index_text, match_query
from topicscout.store import Store, m001_initial, migrations
from topicscout.types import Item

NOW = datetime(2026, 1, 20, 1, 30, tzinfo=UTC)


def item(title: str, platform: str = "weibo", hours_ago: float = 1) -> Item:
    return Item(platform=platform, title=title, seen_at=NOW - timedelta(hours=hours_ago),
                url=f"https://example.com/{abs(hash(title))}", rank=3)


def titles(store: Store, words: str, since: datetime = NOW - timedelta(days=7)) -> list[str]:
    match = match_query(words)
    assert match is not None
    return [r["title"] for r in store.search_items(match, since, 20)]


def test_two_character_chinese_words_are_found(store: Store) -> None:
    store.add_items([item("马年春晚节目单曝光"), item("春运首日客流"), item("英伟达发布新芯片")])
    assert titles(store, "春晚") == ["马年春晚节目单曝光"]
    assert titles(store, "芯片") == ["英伟达发布新芯片"]
    assert titles(store, "春晚 节目") == ["马年春晚节目单曝光"]  # every word must match
    assert titles(store, "春晚 芯片") == []


def test_items_added_later_are_searchable_and_reimport_adds_nothing(store: Store) -> None:
    store.add_items([item("大模型公司上新闻联播")])
    store.add_items([item("大模型公司上新闻联播", hours_ago=0.5), item("大模型价格战")])
    assert sorted(titles(store, "大模型")) == ["大模型价格战", "大模型公司上新闻联播"]
    fts_rows = store.db.execute("SELECT count(*) FROM items_fts").fetchone()[0]
    assert fts_rows == store.db.execute("SELECT count(*) FROM items").fetchone()[0] == 2


def test_old_headlines_are_left_out(store: Store) -> None:
    store.add_items([item("春晚彩排", hours_ago=24 * 10), item("春晚官宣", hours_ago=2)])
    assert titles(store, "春晚", since=NOW - timedelta(days=7)) == ["春晚官宣"]


def test_query_syntax_is_never_interpreted() -> None:
    assert match_query('AND OR NEAR "* (') == '"and" AND "or" AND "near"'
    assert match_query("  ，。!  ") is None
    assert "gpt" in index_text("GPT-5发布了").split()


def test_items_stored_before_the_search_migration_are_found(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite_utils.Database(path)
    migrations.ensure_migrations_table(db)  # a database from before the bot's migration
    m001_initial(db)
    db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
               " VALUES ('topicscout', 'm001_initial', '2026-01-01')")
    db["items"].insert({"id": "x1", "platform": "weibo", "title": "马年春晚倒计时",
                        "first_seen": 1, "last_seen": int(NOW.timestamp())})
    db.conn.commit()
    db.close()
    store = Store.open(path)
    assert titles(store, "春晚") == ["马年春晚倒计时"]
    store.close()


def test_search_merges_one_headline_across_platforms(corpus_app: service.App) -> None:
    hits = service.search_stories(corpus_app, "大寒", DAY)
    assert hits, "the corpus day has 大寒 on several lists"
    assert all("大寒" in h.title for h in hits)
    assert len({h.title for h in hits}) == len(hits)


def test_pruning_drops_index_rows_of_deleted_items(store: Store) -> None:
    store.add_items([item("春晚彩排"), item("春运开始")])
    assert titles(store, "春晚") == ["春晚彩排"]  # searching indexed both
    with store.db.atomic():  # what retention does to old items
        store.db.execute("DELETE FROM snapshots WHERE item_id IN"
                         " (SELECT id FROM items WHERE title = '春晚彩排')")
        store.db.execute("DELETE FROM items WHERE title = '春晚彩排'")
    assert store.prune_search_index() == 1
    store.add_items([item("春晚官宣")])  # may reuse the deleted rowid: must be indexed
    assert titles(store, "春晚") == ["春晚官宣"]


def test_storing_items_does_not_tokenize_them_for_search(store: Store) -> None:
    store.add_items([item("马年春晚倒计时")])  # a crawl: no jieba, no index rows yet
    assert store.db.execute("SELECT count(*) FROM items_fts").fetchone()[0] == 0
    assert titles(store, "春晚") == ["马年春晚倒计时"]
    assert store.db.execute("SELECT count(*) FROM items_fts").fetchone()[0] == 1
