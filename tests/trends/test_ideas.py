"""Relevance with its reason, exclusion, brand safety, recurring items and repeat suppression."""

from __future__ import annotations

from datetime import timedelta

from tests.trends.conftest import T0, background, hourly, seen
from topicscout.types import Item
from trends.analyze import analyze
from trends.model import Brand
from trends.recurring import RecurringIndex, skeleton
from trends.relevance import score_relevance, score_safety
from trends.text import Tokenizer
from trends.topics import cluster_stories

BRAND = Brand(name="小智", keywords=("DeepSeek",), related=("芯片",), exclude=("竞品甲",),
              avoid=("裁员",))


def lists() -> list[Item]:
    return background("weibo", range(0, 80)) + background("baidu", range(0, 80))


def climbing(title: str, platform: str = "weibo") -> list[Item]:
    return hourly(platform, title, {5: 30, 3: 12, 1: 5, 0: 2})


def test_relevance_names_the_word_and_the_title(tokenizer: Tokenizer) -> None:
    rel = score_relevance(["DeepSeek变冷漠了"], BRAND, tokenizer)
    assert rel.score == 1.0 and rel.matched == ("DeepSeek",)
    assert rel.reason == "matched DeepSeek in «DeepSeek变冷漠了»"
    weaker = score_relevance(["国产芯片突破"], BRAND, tokenizer)
    assert 0 < weaker.score < 1.0


def test_an_excluded_word_removes_the_story_for_the_brand(tokenizer: Tokenizer) -> None:
    items = lists() + climbing("竞品甲发布新品")
    result = analyze(items, T0, BRAND, tokenizer=tokenizer)
    assert any("竞品甲发布新品" in t.titles for t in result.topics)
    assert all("竞品甲发布新品" not in i.topic.titles for i in result.ideas)


def test_risky_stories_are_never_suggested_only_watched(tokenizer: Tokenizer) -> None:
    assert score_safety(["某地发生地震"], BRAND, tokenizer).risky
    assert score_safety(["某厂宣布裁员"], BRAND, tokenizer).flags == ("裁员",)
    items = lists() + climbing("某地发生地震") + climbing("春节档票房新高", "baidu")
    ideas = analyze(items, T0, BRAND, tokenizer=tokenizer).ideas
    angles = {i.topic.title: i.angle for i in ideas}
    assert angles["某地发生地震"] == "watch"
    assert angles["春节档票房新高"] == "breakout"
    assert all(i.angle == "watch" for i in ideas if i.topic.safety.risky)


def test_brand_matches_are_labelled_and_lifted(tokenizer: Tokenizer) -> None:
    items = lists() + climbing("DeepSeek发布新模型") + climbing("春节档票房新高", "baidu")
    ideas = analyze(items, T0, BRAND, tokenizer=tokenizer).ideas
    assert ideas[0].topic.title == "DeepSeek发布新模型" and ideas[0].angle == "brand"


def test_an_idea_is_not_repeated_without_new_momentum(tokenizer: Tokenizer) -> None:
    items = lists() + climbing("春节档票房新高")
    first = analyze(items, T0, BRAND, tokenizer=tokenizer).ideas[0].topic
    again = analyze(items, T0, BRAND, tokenizer=tokenizer, suggested={first.key: first.score})
    assert all(i.key != first.key for i in again.ideas)
    smaller = analyze(items, T0, BRAND, tokenizer=tokenizer,
                      suggested={first.key: first.score / 2})
    assert any(i.key == first.key for i in smaller.ideas)


def test_a_daily_column_is_recurring_not_news(tokenizer: Tokenizer) -> None:
    items = lists() + background("36kr", range(0, 80))
    for day in range(3, 0, -1):
        title = f"8点1氪丨第{day}天的公司新闻甲乙丙；第二条消息丁戊；第三条消息己庚"
        items += hourly("36kr", title, {day * 24 + 1: 1, day * 24: 1})
    items += hourly("36kr", "8点1氪丨今天的公司新闻一则", {1: 3, 0: 1})
    result = analyze(items, T0, BRAND, tokenizer=tokenizer)
    column = next(t for t in result.topics if "8点1氪丨今天的公司新闻一则" in t.titles)
    assert column.recurring
    assert all(not i.topic.recurring for i in result.ideas)


def test_a_daily_price_is_recurring_but_the_same_words_on_another_list_are_not() -> None:
    day = T0.replace(hour=0)
    index = RecurringIndex([
        ("a", "baidu", "1月14日金价", day.replace(day=12)),
        ("b", "baidu", "1月15日金价", day),
        ("c", "weibo", "孙龙银牌", day.replace(day=11)),
        ("d", "baidu", "孙龙银牌", day),
    ])
    assert skeleton("1月15日金价") == skeleton("1月14日金价")
    assert index.is_recurring("b", "baidu", "1月15日金价", day)
    assert not index.is_recurring("d", "baidu", "孙龙银牌", day)


def test_an_episode_of_a_show_is_recurring_but_news_about_a_show_is_not() -> None:
    index = RecurringIndex([])
    day = T0
    assert index.is_recurring("a", "bilibili", "【速凌宇宙】第九集：航天大战场！", day)
    assert index.is_recurring("b", "zhihu", "如何评价综艺《喜人奇妙夜》第二季的第七期？", day)
    assert not index.is_recurring("c", "weibo", "生命树收视率第二集就断崖跌", day)


def test_stories_sharing_their_rising_words_make_one_topic(tokenizer: Tokenizer) -> None:
    titles = ("孙龙短道速滑摘银", "孙龙摘银后哭了", "宝马召回全球多款车型")
    docs = [tokenizer.tokens(t) for t in titles]
    groups, labels = cluster_stories(docs, {"孙龙": 6.0})
    assert groups == [[0, 1], [2]]
    assert labels[0][0] == "孙龙"


def test_stories_naming_the_same_rising_people_make_one_topic(tokenizer: Tokenizer) -> None:
    titles = ("任子威 黄大宪成功淘汰", "任子威谈韩国选手黄大宪犯规出局", "宝马召回全球多款车型")
    docs = [tokenizer.tokens(t) for t in titles]
    names = {n for t in titles for n in tokenizer.names(t)}
    assert "黄大宪" in names
    groups, _ = cluster_stories(docs, {"黄大宪": 4.0}, names=names)
    assert groups == [[0, 1], [2]]


def test_a_topic_carries_its_evidence_with_links(tokenizer: Tokenizer) -> None:
    items = lists() + climbing("春节档票房新高") + [
        seen("baidu", "春节档票房新高", 0, 4)]
    topic = next(t for t in analyze(items, T0, BRAND, tokenizer=tokenizer).topics
                 if t.title == "春节档票房新高")
    assert {i.platform for i in topic.items} == {"weibo", "baidu"}
    assert topic.first_seen == T0 - timedelta(hours=5)


def test_party_and_emergency_ministry_statements_are_watch_only() -> None:
    from trends.model import Brand
    from trends.relevance import score_safety
    from trends.text import Tokenizer

    safety = score_safety(["应急管理部：坚决拥护党中央决定"], Brand(), Tokenizer())
    assert safety.risky and "党中央" in safety.flags
