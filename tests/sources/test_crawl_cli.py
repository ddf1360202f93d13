"""End to end through `topicscout crawl`: 50 loopback sources, 10 of them broken on purpose."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from sources.kinds import kind_of
from sources.model import Parsed
from tests.fakes.http_server import FakeServer, Route
from tests.sources.helpers import DATA, SEEN_AT
from topicscout.cli import main
from topicscout.config import SourceConfig, load_config
from topicscout.store import Store

FEEDS = ["rss-parser__encoding-gb2312.xml", "yinan-c__ifanr.xml", "yinan-c__sspai.xml",
         "Bruce2012__sspai.xml", "rss-parser__guardian.rss", "rss-parser__gulp-atom.atom",
         "feedparser__atom10.xml", "feedparser__rss20.xml", "yinan-c__atom.xml",
         "rss-parser__uolNoticias.rss", "feedparser__illformed_chardet_gb2312.xml"]
HOTLISTS = [("hotlist", "weibo", "weibo.json"), ("hotlist", "zhihu", "zhihu.json"),
            ("hotlist", "baidu", "baidu.json"), ("hotlist", "bilibili", "bilibili.json"),
            ("hotlist", "douyin", "douyin.json"), ("hotlist", "toutiao", "toutiao.json"),
            ("newsnow", "zhihu", "newsnow-zhihu.json"),
            ("dailyhot", "baidu", "dailyhot-baidu.json")]
CRAWL_SETTINGS = """
[crawl]
deadline = "2s"
read_timeout = "2s"
retries = 1
backoff = "0.05s"
max_wait = "3s"
per_host = 16
max_bytes = 2000000
"""


@dataclass
class Planned:
    name: str
    toml: str
    problem: str | None = None  # expected error text (a fragment), None for a good source


def _toml(name: str, kind: str, url: str, platform: str | None = None) -> str:
    lines = [f'name = "{name}"', f'kind = "{kind}"', f'url = "{url}"', 'every = "1s"']
    if platform:
        lines.append(f'platform = "{platform}"')
    return "[[sources]]\n" + "\n".join(lines) + "\n"


def _good(server: FakeServer, index: int) -> Planned:
    """A well-behaved source; every third is gzipped, some are slow or flaky first."""
    name = f"good{index:02d}"
    path = f"/good/{index}"
    extra = dict(gzip=index % 3 == 0, delay=0.3 if index % 10 == 4 else 0.0,
                 fail_times=1 if index in (5, 17) else 0,
                 fail_status=429 if index == 17 else 500,
                 retry_after="1" if index == 17 else None)
    validators = ({"etag": f'"v{index}"'} if index % 2 else
                  {"last_modified": "Sun, 15 Mar 2026 05:00:00 GMT"})
    if index % 2 == 0 and index // 2 < len(FEEDS) * 2:
        filename = FEEDS[(index // 2) % len(FEEDS)]
        # The GB2312 feed is served under a lying charset header: it must still read right.
        content_type = ("application/rss+xml; charset=utf-8" if "gb2312" in filename
                        else "application/rss+xml")
        server.add(path, Route(body=(DATA / "feeds" / filename).read_bytes(),
                               content_type=content_type, **validators, **extra))
        return Planned(name, _toml(name, "rss", server.url(path)))
    kind, platform, filename = HOTLISTS[index % len(HOTLISTS)]
    server.add(path, Route(body=(DATA / "hotlists" / filename).read_bytes(), **validators,
                           **extra))
    base = server.url(path) if kind == "hotlist" else server.url(path.rsplit("/", 1)[0])
    if kind == "newsnow":
        server.add("/good/api/s", Route(body=(DATA / "hotlists" / filename).read_bytes(),
                                        etag='"nn"'))
    if kind == "dailyhot":
        server.add(f"/good/{platform}", Route(body=(DATA / "hotlists" / filename).read_bytes(),
                                              etag='"dh"'))
    return Planned(name, _toml(name, kind, base, platform))


def _broken(server: FakeServer) -> list[Planned]:
    html = b"<!DOCTYPE html><html><body>Sina Visitor System</body></html>"
    routes = [
        ("down", "rss", None, Route(fail_times=99), "HTTP 500 from 127.0.0.1"),
        ("slow", "rss", None, Route(body=b"<rss/>", delay=4), "no complete response"),
        ("endless", "rss", None, Route(endless=True), "exceeded the 1.9 MB cap"),
        ("loop", "rss", None, Route(redirect_to="/bad/loop"), "more than 5 redirects"),
        ("shape", "hotlist", "weibo", Route(body=b'{"ok": 1, "data": {"realtime": null}}'),
         "expected data.realtime list, got null"),
        ("htmljson", "hotlist", "zhihu", Route(body=html, content_type="text/html"),
         "expected JSON, got an HTML page"),
        ("cut", "hotlist", "baidu", Route(body=b'{"success": true, "data": {"cards": [',
                                          truncate=True), "broken response from 127.0.0.1"),
        ("notfeed", "rss", None, Route(body=(DATA / "feeds" /
                                             "feedparser__illformed_rss_empty_document.xml")
                                       .read_bytes(), content_type="application/xml"),
         "not a readable RSS or Atom feed"),
        ("limited", "rss", None, Route(fail_times=99, fail_status=429, retry_after="3600"),
         "HTTP 429 from 127.0.0.1"),
    ]
    planned = []
    for name, kind, platform, route, problem in routes:
        server.add(f"/bad/{name}", route)
        planned.append(Planned(name, _toml(name, kind, server.url(f"/bad/{name}"), platform),
                               problem))
    dailyhot_page = (DATA / "hotlists" / "dailyhot-error.html").read_bytes()
    server.add("/dh-broken/weibo", Route(fail_times=99, fail_body=dailyhot_page))
    planned.append(Planned("dailyhot-down", _toml("dailyhot-down", "dailyhot",
                                                   server.url("/dh-broken"), "weibo"),
                           "HTTP 500 from 127.0.0.1"))
    return planned


@pytest.fixture
def fifty(server: FakeServer, tmp_path: Path) -> tuple[Path, list[Planned]]:
    planned = [_good(server, i) for i in range(40)] + _broken(server)
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "crawl.sqlite"\n' + CRAWL_SETTINGS + "\n".join(
        p.toml for p in planned), encoding="utf-8")
    return config, planned


def _expected_ids(source: SourceConfig, server: FakeServer) -> set[str]:
    path = source.url.split(str(server.port), 1)[1] if source.url else ""
    route = server.route_for(path if source.kind in ("rss", "hotlist") else
                          f"{path}/{source.platform}" if source.kind == "dailyhot"
                          else f"{path}/api/s")
    assert route is not None
    ctx = Parsed(source.name, SEEN_AT, source.url or "", route.content_type)
    return {item.id for item in kind_of(source).parser(source)(route.body, ctx)}


def test_fifty_sources_ten_broken_store_the_forty_and_report_the_ten(
        fifty: tuple[Path, list[Planned]], server: FakeServer) -> None:
    config_path, planned = fifty
    runner = CliRunner()
    started = time.perf_counter()
    first = runner.invoke(main, ["crawl", "--config", str(config_path)])
    assert first.exit_code == 0, first.output
    assert time.perf_counter() - started < 20
    assert "40 ok, 10 failed" in " ".join(first.output.split())

    config = load_config(config_path)
    store = Store.open(config.db_path)
    states = store.source_states()
    for plan in planned:
        state = states[plan.name]
        if plan.problem is None:
            assert state.last_error is None and state.last_success is not None, plan.name
        else:
            assert state.last_error and plan.problem in state.last_error, (plan.name,
                                                                          state.last_error)
            assert "\n" not in state.last_error and state.consecutive_failures == 1
    for source in config.sources:
        if states[source.name].last_error is None:
            stored = {r["id"] for r in store.iter_rows(
                "SELECT id FROM items WHERE platform = ?", [source.name])}
            assert stored == _expected_ids(source, server), source.name
    counts = store.counts()
    store.close()

    time.sleep(1.1)  # every = "1s": everything is due again
    server.requests.clear()
    second = runner.invoke(main, ["crawl", "--config", str(config_path)])
    assert second.exit_code == 0, second.output
    store = Store.open(config.db_path)
    assert store.counts() == counts  # 304s store nothing
    store.close()
    for index in range(40):
        sent = server.requests_to(f"/good/{index}") or []
        for request in sent:
            assert "if-none-match" in request.headers or "if-modified-since" in request.headers
    assert " ".join(second.output.split()).count("not modified") == 40, second.output


def test_crawl_exits_1_when_every_source_failed(server: FakeServer, tmp_path: Path) -> None:
    server.add("/gone", status=404, body=b"")
    config = tmp_path / "c.toml"
    config.write_text('[storage]\npath = "x.sqlite"\n' + _toml("only", "rss",
                                                               server.url("/gone")))
    result = CliRunner().invoke(main, ["crawl", "--config", str(config)])
    assert result.exit_code == 1
    assert "HTTP 404" in result.output


def test_an_upstream_message_that_looks_like_markup_is_shown_as_text(
        server: FakeServer, tmp_path: Path) -> None:
    server.add("/bad", status=400, body=b'{"message": "[red][/]x"}')
    config = tmp_path / "c.toml"
    config.write_text('[storage]\npath = "x.sqlite"\n' + _toml("only", "rss", server.url("/bad")))
    result = CliRunner().invoke(main, ["crawl", "--config", str(config)])
    assert result.exit_code == 1
    assert "[red][/]x" in result.output


@pytest.mark.parametrize(("extra", "name", "message"), [
    ("", "nope", "--source 'nope': no such source (known: feed)"),
    ("enabled = false\n", "feed", "--source 'feed' is disabled in the config"),
])
def test_crawl_of_unknown_or_disabled_source_is_a_clear_error(tmp_path: Path, extra: str,
                                                              name: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[storage]\npath = "x.sqlite"\n' + _toml("feed", "rss",
                                                               "http://127.0.0.1:9/f") + extra)
    result = CliRunner().invoke(main, ["crawl", "--config", str(config), "--source", name])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_sources_command_shows_health(server: FakeServer, tmp_path: Path) -> None:
    server.add("/f", body=(DATA / "feeds" / "feedparser__rss20.xml").read_bytes(),
               content_type="application/rss+xml")
    config = tmp_path / "c.toml"
    config.write_text('[storage]\npath = "x.sqlite"\n' + _toml("feed", "rss", server.url("/f"))
                      + _toml("later", "rss", server.url("/f")) + "enabled = false\n")
    runner = CliRunner()
    assert runner.invoke(main, ["crawl", "--config", str(config)]).exit_code == 0
    result = runner.invoke(main, ["sources", "--config", str(config)])
    assert result.exit_code == 0
    rows = {line.split()[1]: line for line in result.output.splitlines()
            if line.startswith("│")}
    assert "ok" in rows["feed"] and "disabled" in rows["later"]
