"""Momentum is causal: data seen after `now` never changes what analyze says about `now`."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trends.conftest import T0, background, hourly
from topicscout.types import Item
from trends.analyze import analyze
from trends.model import Brand
from trends.text import Tokenizer

BASE = (background("weibo", range(0, 30), per_fetch=8)
        + background("baidu", range(0, 30), per_fetch=8)
        + hourly("weibo", "孙龙短道速滑摘银", {5: 30, 3: 9, 1: 4, 0: 2})
        + hourly("baidu", "孙龙短道速滑摘银", {2: 20, 0: 6}))

later = st.builds(
    lambda platform, title, minutes, rank: Item(
        platform=platform, title=title, seen_at=T0 + timedelta(minutes=minutes), rank=rank),
    st.sampled_from(["weibo", "baidu", "zhihu"]),
    st.sampled_from(["孙龙短道速滑摘银", "孙龙回应摘银", "全新的话题出现了",
                     "weibo常驻话题1号讨论"]),
    st.integers(min_value=1, max_value=6000), st.integers(min_value=1, max_value=50))


@settings(max_examples=20, deadline=None)
@given(st.lists(later, max_size=15))
def test_adding_data_after_now_never_changes_the_result(tokenizer: Tokenizer,
                                                        extra: list[Item]) -> None:
    before = analyze(BASE, T0, Brand(), tokenizer=tokenizer)
    after = analyze(BASE + extra, T0, Brand(), tokenizer=tokenizer)
    assert after == before
