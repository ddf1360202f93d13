from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from topicscout.store import Store
from topicscout.types import Item

T0 = datetime(2026, 2, 1, 1, 0, tzinfo=UTC)


def _item(title: str, at: datetime, rank: int = 1, platform: str = "weibo") -> Item:
    return Item(platform=platform, title=title, seen_at=at, rank=rank, heat=100)


def test_adding_the_same_observations_twice_adds_nothing(store: Store) -> None:
    batch = [_item("马年春晚", T0), _item("马年春晚", T0 + timedelta(hours=1), rank=2)]
    first = store.add_items(batch)
    again = store.add_items(batch)
    assert (first.items_new, first.snapshots_new) == (1, 2)
    assert (again.items_new, again.snapshots_new) == (0, 0)


def test_identity_is_platform_plus_normalised_title_not_the_title_alone(store: Store) -> None:
    counts = store.add_items([_item("#马年春晚#", T0), _item("马年春晚", T0, platform="baidu"),
                              _item("马年春晚", T0 + timedelta(minutes=5))])
    assert counts.items_new == 2  # weibo "#…#" and plain fold together; baidu is its own item


def test_observations_are_bounded_by_time_on_both_sides(store: Store) -> None:
    store.add_items([_item(f"t{n}", T0 + timedelta(hours=n)) for n in range(5)])
    seen = store.observations(T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    assert [i.title for i in seen] == ["t2", "t3"]
    assert all(i.seen_at.tzinfo is not None for i in seen)


def test_first_and_last_seen_widen_whatever_the_import_order(store: Store) -> None:
    store.add_items([_item("x", T0 + timedelta(hours=5))])
    store.add_items([_item("x", T0)])
    row = next(store.iter_rows("SELECT first_seen, last_seen FROM items"))
    assert row == {"first_seen": int(T0.timestamp()),
                   "last_seen": int((T0 + timedelta(hours=5)).timestamp())}


def test_migrations_are_recorded_and_reopening_applies_nothing_new(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    Store.open(path).close()
    reopened = Store.open(path)
    names = [r["name"] for r in reopened.iter_rows("SELECT name FROM _sqlite_migrations")]
    assert names[0] == "m001_initial" and len(names) == len(set(names))
    assert reopened.integrity_ok()
    reopened.close()


def test_a_vote_can_be_changed_and_withdrawn_but_never_doubled(store: Store) -> None:
    _, (idea,) = store.save_digest(T0, [_idea_row()])
    assert store.set_vote(idea, 7, "ann", "up", T0) == "up"
    assert store.set_vote(idea, 7, "ann", "star", T0) == "star"
    assert store.tallies(idea) == {"up": 0, "down": 0, "star": 1}
    assert store.set_vote(idea, 7, "ann", "star", T0) is None  # same button again: withdrawn
    assert store.tallies(idea) == {"up": 0, "down": 0, "star": 0}


def _idea_row() -> dict[str, object]:
    return {"story_key": "k", "title": "t", "why": "w", "score": 1.0, "relevance": 0.0,
            "safety": "ok", "angle": "breakout", "platforms": "[]", "terms": "[]",
            "matched": "[]", "first_seen": int(T0.timestamp()), "items": "[]"}


def test_retention_also_clears_search_rows_and_cached_tokens_of_deleted_items(
        store: Store) -> None:
    store.add_items([_item("春晚彩排", T0), _item("春运开始", T0 + timedelta(days=5))])
    store.save_title_tokens("sig", {"春晚彩排": "春晚 彩排", "春运开始": "春运 开始"})
    assert len(store.search_items('"春晚"', T0, 10)) == 1  # a search indexes both titles
    counts = store.prune(T0 + timedelta(days=1))
    assert (counts.items, counts.search_rows, counts.title_tokens) == (1, 1, 1)
    assert store.title_tokens("sig", ["春晚彩排", "春运开始"]) == {"春运开始": "春运 开始"}
    store.add_items([_item("春晚官宣", T0 + timedelta(days=5))])  # may reuse the freed rowid
    found = store.search_items('"春晚"', T0, 10)
    assert [r["title"] for r in found] == ["春晚官宣"]


def test_a_feed_entry_whose_title_was_edited_is_found_by_its_new_title(store: Store) -> None:
    first = Item(platform="sspai", title="春晚彩排首曝", guid="g1", seen_at=T0)
    edited = Item(platform="sspai", title="马年春晚官宣阵容", guid="g1",
                  seen_at=T0 + timedelta(hours=1))
    assert store.add_items([first]).items_new == 1
    assert store.add_items([edited]).items_new == 0  # same entry, counted once
    assert [r["title"] for r in store.search_items('"阵容"', T0, 10)] == ["马年春晚官宣阵容"]
    assert store.search_items('"首曝"', T0, 10) == []
    assert store._count("items_fts") == store._count("items") == 1
