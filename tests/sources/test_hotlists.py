"""Hot lists: heat as numbers, ads dropped, pinned marked, and format changes named clearly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sources.hotlists.base import MAX_ENTRIES
from sources.kinds import kind_of
from sources.shape import parse_heat
from tests.sources.helpers import DATA, parse, source
from topicscout.errors import SourceError


def hotlist(platform: str, data: object) -> list:  # type: ignore[type-arg]
    body = json.dumps(data, ensure_ascii=False).encode()
    return parse(source(platform, platform=platform), body)


def recorded(name: str) -> bytes:
    return (DATA / "hotlists" / name).read_bytes()


@pytest.mark.parametrize(("text", "heat"), [
    ("1854 万热度", 18_540_000), ("7809518", 7_809_518), (7809518, 7_809_518),
    ("1.2亿", 120_000_000), ("热度 3.5w", 35_000), ("12,345", 12_345), (12.6, 13),
    ("", None), ("hot", None), (None, None), (True, None), (-5, None), ({"v": 1}, None),
    (10**400, None), ("9" * 400, None), (float("nan"), None),
])
def test_heat_becomes_an_integer(text: object, heat: int | None) -> None:
    assert parse_heat(text) == heat


def test_zhihu_heat_text_is_a_number() -> None:
    items = parse(source("zhihu", platform="zhihu"), recorded("zhihu.json"))
    assert (items[0].heat, items[0].rank, len(items)) == (18_540_000, 1, 30)
    assert items[0].url == "https://www.zhihu.com/question/1902702974792364470"


def test_baidu_top_content_is_pinned_and_ranks_start_below_it() -> None:
    items = parse(source("baidu", platform="baidu"), recorded("baidu.json"))
    pinned = [i for i in items if i.pinned]
    assert [(i.title, i.rank) for i in pinned] == [("《推动海洋经济高质量发展》", None)]
    ranked = [i for i in items if not i.pinned]
    assert [i.rank for i in ranked] == list(range(1, 51))
    assert ranked[0].heat == 7_809_518


def test_weibo_drops_ads_and_keeps_ranks_without_holes() -> None:
    items = parse(source("weibo", platform="weibo"), recorded("weibo.json"))
    assert "春日出游新装备" not in {i.title for i in items}
    ranked = [i for i in items if not i.pinned]
    assert [i.rank for i in ranked] == list(range(1, len(ranked) + 1))
    assert [i.title for i in items if i.pinned] == ["两会受权发布"]


def test_weibo_null_list_names_the_path() -> None:
    with pytest.raises(SourceError, match=r"^expected data\.realtime list, got null$"):
        hotlist("weibo", {"ok": 1, "data": {"realtime": None}})


def test_weibo_api_error_is_reported() -> None:
    with pytest.raises(SourceError, match=r"^API error: ok=-100 \(请先登录\)$"):
        hotlist("weibo", {"ok": -100, "msg": "请先登录"})


def test_entries_without_titles_mean_the_format_changed() -> None:
    with pytest.raises(SourceError, match=r"data\.word_list has 2 entries but none has a title "
                                          "at word"):
        hotlist("douyin", {"data": {"word_list": [{"name": "a"}, {"name": "b"}]}})


def test_html_where_json_was_expected() -> None:
    with pytest.raises(SourceError, match=r"^expected JSON, got an HTML page \(text/html\)$"):
        parse(source("weibo", platform="weibo"), b"<!DOCTYPE html><html>visitor system</html>",
              content_type="text/html")


def test_bilibili_risk_control_code_is_reported() -> None:
    with pytest.raises(SourceError, match=r"API error: code=-352 \(风控校验失败\)"):
        hotlist("bilibili", {"code": -352, "message": "风控校验失败"})


def test_36kr_posts_a_timestamped_body() -> None:
    spec = source("36kr", platform="36kr", url=None)
    request = kind_of(spec).request(spec, datetime(2026, 3, 15, tzinfo=UTC))
    assert (request.method, request.url) == ("POST", "https://gateway.36kr.com/api/mis/nav/"
                                                     "home/nav/rank/hot")
    assert request.json_body["timestamp"] == 1773532800000
    assert not request.is_conditional


def test_source_url_and_headers_override_the_platform_defaults() -> None:
    spec = source("weibo", platform="weibo", url="http://127.0.0.1:9/proxy")
    spec = type(spec)(**{**spec.__dict__, "headers": (("referer", "https://m.weibo.cn/"),)})
    request = kind_of(spec).request(spec, datetime(2026, 3, 15, tzinfo=UTC))
    assert request.url == "http://127.0.0.1:9/proxy"
    assert dict(request.headers)["referer"] == "https://m.weibo.cn/"
    assert "Referer" not in dict(request.headers)


def test_newsnow_builds_its_url_and_rejects_failed_status() -> None:
    spec = source("nn", "newsnow", platform="weibo", url="http://127.0.0.1:4444/")
    assert kind_of(spec).request(spec, datetime.now(UTC)).url == \
        "http://127.0.0.1:4444/api/s?id=weibo&latest"
    with pytest.raises(SourceError, match=r"^NewsNow status 'error' \(boom\)$"):
        parse(spec, b'{"status": "error", "message": "boom", "items": []}')


def test_dailyhot_api_error_is_reported() -> None:
    spec = source("dh", "dailyhot", platform="weibo", url="http://127.0.0.1:6688")
    assert kind_of(spec).request(spec, datetime.now(UTC)).url == "http://127.0.0.1:6688/weibo"
    with pytest.raises(SourceError, match=r"API error: code=500 \(获取失败\)"):
        parse(spec, '{"code": 500, "message": "获取失败"}'.encode())


def test_json_kind_reads_configured_paths_and_templates() -> None:
    spec = source("custom", "json", url="https://api.example.com/hot", items="result.list",
                  title="name", link="https://example.com/t/{id}", rank="order",
                  heat="stats.hot")
    body = json.dumps({"result": {"list": [
        {"id": 7, "name": "话题 A", "order": 2, "stats": {"hot": "12万"}},
        {"id": 8, "name": "话题 B", "order": 1, "stats": {"hot": 99}},
        {"name": ""}]}}).encode()
    items = parse(spec, body)
    assert [(i.title, i.url, i.rank, i.heat) for i in items] == [
        ("话题 A", "https://example.com/t/7", 2, 120_000),
        ("话题 B", "https://example.com/t/8", 1, 99)]


def test_json_kind_defaults_read_a_top_level_list() -> None:
    spec = source("plain", "json", url="https://api.example.com/hot")
    items = parse(spec, b'[{"title": "x", "url": "https://x.com/1"}, {"title": "y"}]')
    assert [(i.title, i.url, i.rank) for i in items] == [("x", "https://x.com/1", 1),
                                                         ("y", None, 2)]


def test_json_kind_post_body_is_sent_as_configured() -> None:
    spec = source("post", "json", url="https://api.example.com/hot", method="post",
                  body='{"page": 1}')
    request = kind_of(spec).request(spec, datetime.now(UTC))
    assert (request.method, request.json_body) == ("POST", {"page": 1})


def test_unknown_platform_is_a_clear_error() -> None:
    spec = source("x", platform="myspace")
    with pytest.raises(SourceError, match="unknown hot-list platform 'myspace'"):
        kind_of(spec).request(spec, datetime.now(UTC))


def test_lists_are_read_up_to_max_entries() -> None:
    entries = [{"word": f"w{i}", "num": i} for i in range(5000)]
    items = hotlist("weibo", {"ok": 1, "data": {"realtime": entries}})
    assert len(items) == MAX_ENTRIES and items[-1].rank == MAX_ENTRIES
