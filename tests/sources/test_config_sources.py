"""The config keys the sources add: [crawl] limits and per-kind source options."""

from __future__ import annotations

from pathlib import Path

import pytest

from sources.kinds import KINDS
from topicscout.config import SOURCE_KINDS, CrawlConfig, load_config, parse_config
from topicscout.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def problems(raw: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value.problems


def test_crawl_table_maps_onto_the_crawler_settings() -> None:
    config = parse_config({"crawl": {"deadline": "5s", "per_host": 2, "retries": 0,
                                     "user_agent": "x/1 (+mailto:a@b.c)"}})
    assert config.crawl == CrawlConfig(deadline=5.0, per_host=2, retries=0,
                                       user_agent="x/1 (+mailto:a@b.c)")
    assert parse_config({}).crawl == CrawlConfig()


def test_bad_crawl_values_are_all_reported() -> None:
    assert problems({"crawl": {"deadline": "soon", "concurrency": 0, "retry": 3}}) == [
        "crawl.retry: unknown key (expected one of: backoff, concurrency, connect_timeout, "
        "deadline, max_bytes, max_redirects, max_wait, per_host, read_timeout, retries, "
        "user_agent)",
        "crawl.deadline: 'soon' is not a duration like 15m, 24h or 7d",
        "crawl.concurrency: must be positive, got 0",
    ]


def test_config_accepts_exactly_the_kinds_the_crawler_knows() -> None:
    assert set(SOURCE_KINDS) == set(KINDS)


def test_each_kind_reports_its_missing_or_bad_keys() -> None:
    found = problems({"sources": [
        {"name": "a", "kind": "hotlist", "platform": "myspace"},
        {"name": "b", "kind": "dailyhot", "platform": "weibo"},
        {"name": "c", "kind": "rss", "url": "https://x.com/f", "timezone": "Mars/Base"},
        {"name": "d", "kind": "json", "url": "https://x.com/a", "rank": 3, "method": "PUT"},
    ]})
    assert found[0].startswith("sources[0].platform: 'myspace' is not a known hot list")
    assert found[1:] == [
        "sources[1].url: is required for kind 'dailyhot' (the base URL of your DailyHotApi)",
        "sources[2].timezone: 'Mars/Base' is not an IANA timezone like Asia/Shanghai",
        "sources[3].rank: must be a str, got int 3",
        "sources[3].method: must be GET or POST, got 'PUT'",
    ]


def test_example_config_ships_hot_lists_and_feeds_with_aggregators_disabled() -> None:
    config = load_config(EXAMPLE)
    enabled = {s.kind for s in config.sources if s.enabled}
    disabled = {s.kind for s in config.sources if not s.enabled}
    assert enabled == {"hotlist", "rss"} and disabled == {"newsnow", "dailyhot"}
    assert {s.platform for s in config.sources if s.kind == "hotlist"} >= {
        "weibo", "zhihu", "baidu", "bilibili", "douyin", "toutiao", "36kr"}
