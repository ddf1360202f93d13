"""Momentum: climbing beats fading, bursts are measured against the usual, all of it causal."""

from __future__ import annotations

from datetime import timedelta

from tests.trends.conftest import T0, background, hourly, seen
from topicscout.types import Item
from trends.analyze import analyze
from trends.model import Brand
from trends.rising import build_context, momentum, rank_points, term_bursts
from trends.text import Tokenizer

CLIMBING = "孙龙短道速滑摘银"
FADING = "某歌手官宣恋情"


def scene() -> list[Item]:
    """Two lists fetched hourly for four days; one story climbing now, one that peaked."""
    items = background("weibo", range(0, 80)) + background("baidu", range(0, 80))
    items += hourly("weibo", CLIMBING, {6: 35, 4: 20, 2: 8, 0: 3}, heat=100)
    items[-1:] = [seen("weibo", CLIMBING, 0, 3, heat=400)]
    items += hourly("baidu", CLIMBING + "了", {1: 12, 0: 5})
    items += hourly("weibo", FADING, {20: 1, 18: 1, 14: 3, 6: 30, 0: 40})
    return items


def topic_of(title: str, items: list[Item], tokenizer: Tokenizer):  # type: ignore[no-untyped-def]
    result = analyze(items, T0, Brand(), tokenizer=tokenizer)
    return next(t for t in result.topics if title in t.titles)


def test_a_climbing_story_ranks_above_one_that_peaked_and_fades(tokenizer: Tokenizer) -> None:
    items = scene()
    climbing, fading = topic_of(CLIMBING, items, tokenizer), topic_of(FADING, items, tokenizer)
    assert climbing.score > fading.score
    assert fading.fading and not climbing.fading


def test_why_says_where_it_climbed_how_fast_and_how_wide(tokenizer: Tokenizer) -> None:
    why = topic_of(CLIMBING, scene(), tokenizer).why
    assert "微博 #35→#3 in 6 h" in why
    assert "now on 2 platforms" in why
    assert "heat ×4.0" in why


def test_the_same_headline_on_two_lists_is_one_topic_on_both(tokenizer: Tokenizer) -> None:
    topic = topic_of(CLIMBING, scene(), tokenizer)
    assert set(topic.platforms) == {"weibo", "baidu"}


def test_rank_points_fall_with_rank() -> None:
    assert rank_points(1) == 1.0 > rank_points(3) > rank_points(30) > 0


def test_a_term_bursts_against_the_same_hours_of_previous_days(tokenizer: Tokenizer) -> None:
    items: list[Item] = []
    for day in range(4):  # 春晚 every day at this hour: evergreen; 孙龙 only today
        for n in range(3):
            items.append(seen("weibo", f"春晚彩排第{n}天消息{day}", day * 24 + 1, 10 + n))
    items += [seen("weibo", f"孙龙 摘银 第{n}条", 1, 20 + n) for n in range(3)]
    ids = {i.id: tokenizer.tokens(i.title) for i in items}
    bursts = term_bursts(items, T0, ids)
    assert bursts["孙龙"] > 3
    assert bursts.get("春晚", 1.0) <= 1.0


def test_a_list_not_fetched_lately_says_nothing_about_now() -> None:
    items = [seen("weibo", "旧闻", 40, 1)]
    ctx = build_context(items, T0, {}, timedelta(hours=24))
    assert momentum(items, (), ctx) is None


def test_pinned_slots_are_not_momentum(tokenizer: Tokenizer) -> None:
    items = background("baidu", range(0, 3))
    items.append(Item(platform="baidu", title="置顶公告", seen_at=T0, rank=None, pinned=True))
    result = analyze(items, T0, Brand(), tokenizer=tokenizer)
    assert all("置顶公告" not in t.titles for t in result.topics)


def test_why_text_gives_minutes_under_an_hour_and_hours_after() -> None:
    from trends.rising import _ago

    assert _ago(timedelta(minutes=40)) == "40 min"
    assert _ago(timedelta(seconds=5)) == "1 min"
    assert _ago(timedelta(hours=5, minutes=10)) == "5 h"
