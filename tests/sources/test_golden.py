"""Golden files: every recorded response parses to exactly the Items we reviewed once."""

from __future__ import annotations

import json
import os

import pytest

from tests.sources.helpers import DATA, item_record, parse, source

HOTLISTS = [
    ("weibo", "hotlist", "weibo", "weibo.json"),
    ("zhihu", "hotlist", "zhihu", "zhihu.json"),
    ("baidu", "hotlist", "baidu", "baidu.json"),
    ("bilibili", "hotlist", "bilibili", "bilibili.json"),
    ("douyin", "hotlist", "douyin", "douyin.json"),
    ("toutiao", "hotlist", "toutiao", "toutiao.json"),
    ("36kr", "hotlist", "36kr", "36kr.json"),
    ("newsnow-zhihu", "newsnow", "zhihu", "newsnow-zhihu.json"),
    ("dailyhot-baidu", "dailyhot", "baidu", "dailyhot-baidu.json"),
]
FEEDS = sorted(p.name for p in (DATA / "feeds").iterdir() if p.name not in {
    "feedparser__illformed_rss_empty_document.xml", "rss-parser__missing-fields.atom"})


def _check_golden(name: str, records: list[dict[str, object]]) -> None:
    golden = DATA / "golden" / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")
    assert records == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("name", "kind", "platform", "filename"), HOTLISTS)
def test_hotlist_response_parses_to_its_golden_items(name: str, kind: str, platform: str,
                                                     filename: str) -> None:
    spec = source(name, kind, platform=platform, url="https://aggregator.example")
    items = parse(spec, (DATA / "hotlists" / filename).read_bytes())
    assert items
    assert all(i.platform == name for i in items)
    _check_golden(f"hotlist-{name}", [item_record(i) for i in items])


@pytest.mark.parametrize("filename", FEEDS)
def test_feed_parses_to_its_golden_items(filename: str) -> None:
    spec = source("feed", "rss", url="https://example.com/feeds/feed.xml")
    items = parse(spec, (DATA / "feeds" / filename).read_bytes())
    _check_golden(f"feed-{filename}", [item_record(i) for i in items])
