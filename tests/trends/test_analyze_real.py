"""The whole pipeline on real snapshots (the demo's bundled hot lists, 2026-02-08 … 02-13)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from topicscout.snapshots import read_snapshot_file
from topicscout.types import Item
from trends.analyze import analyze, lookback
from trends.model import Analysis, Brand
from trends.text import Tokenizer

DEMO = Path(__file__).resolve().parents[2] / "topicscout" / "data" / "demo"
MORNING = datetime.fromisoformat("2026-02-13T09:30:00+08:00")


@pytest.fixture(scope="module")
def morning(tokenizer: Tokenizer) -> Analysis:
    bad: list[object] = []
    items: list[Item] = [it for path in sorted(DEMO.glob("*.jsonl.gz"))
                         for it in read_snapshot_file(path, bad)]  # type: ignore[arg-type]
    since = MORNING - lookback(timedelta(hours=24))
    return analyze([i for i in items if i.seen_at > since], MORNING, Brand(),
                   tokenizer=tokenizer)


def test_the_silver_medal_story_is_one_idea_not_three(morning: Analysis) -> None:
    about = [i for i in morning.ideas if any("孙龙" in t for t in i.topic.titles)]
    assert len(about) == 1
    assert {"weibo", "baidu"} <= set(about[0].topic.platforms)


def test_newsletters_and_columns_are_not_ideas(morning: Analysis) -> None:
    for idea in morning.ideas:
        assert "8点1氪" not in idea.topic.title and "氪星晚报" not in idea.topic.title


def test_ideas_are_distinct_stories_with_reasons(morning: Analysis) -> None:
    titles = [i.topic.title for i in morning.ideas]
    assert len(titles) == len(set(titles))
    keys = [k for i in morning.ideas for k in i.topic.stories]
    assert len(keys) == len(set(keys))
    assert all(i.topic.why and i.topic.items for i in morning.ideas)


def test_generic_words_do_not_label_topics(morning: Analysis) -> None:
    generic = {"取消", "需要", "回应", "官方", "网友"}
    assert all(not generic & set(t.terms[:2]) for t in morning.topics[:30])
