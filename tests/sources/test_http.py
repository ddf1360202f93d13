"""The shared HTTP client against a real loopback server that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import gzip
import time

import pytest

from sources.http import Fetcher, FetchError, HttpSettings, parse_retry_after
from sources.model import Request, Validators
from tests.fakes.http_server import FakeServer

FAST = HttpSettings(connect_timeout=2, read_timeout=2, deadline=3, retries=2, backoff=0.01,
                    max_wait=2)


def fetch(request: Request, settings: HttpSettings = FAST,
          validators: Validators | None = None):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(request, validators)
    return asyncio.run(go())


def test_sends_user_agent_and_source_headers(server: FakeServer) -> None:
    url = server.add("/a", body=b"{}")
    fetch(Request(url, headers=(("Referer", "https://weibo.com/"),)))
    sent = server.requests_to("/a")[0].headers
    assert sent["user-agent"].startswith("topicscout/")
    assert sent["referer"] == "https://weibo.com/"


def test_gzip_body_is_decoded(server: FakeServer) -> None:
    url = server.add("/gz", body=b'{"ok": 1}' * 100, gzip=True)
    assert fetch(Request(url)).body == b'{"ok": 1}' * 100
    accepted = server.requests_to("/gz")[0].headers["accept-encoding"]
    assert "gzip" in accepted and "br" in accepted  # brotli is a dependency: br is offered


def test_brotli_body_is_decoded(server: FakeServer) -> None:
    url = server.add("/br", body="热搜".encode() * 500, brotli=True)
    assert fetch(Request(url)).body == "热搜".encode() * 500


def test_conditional_get_gets_304_with_stored_etag(server: FakeServer) -> None:
    url = server.add("/feed", body=b"<rss/>", etag='"v1"', last_modified="Mon, 01 Jan 2024 "
                     "00:00:00 GMT")
    first = fetch(Request(url))
    assert (first.status, first.etag) == (200, '"v1"')
    second = fetch(Request(url), validators=Validators(first.etag, first.last_modified))
    assert second.not_modified and second.body == b""
    sent = server.requests_to("/feed")[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_post_is_never_conditional(server: FakeServer) -> None:
    url = server.add("/api", body=b"{}", etag='"v1"')
    fetch(Request(url, method="POST", json_body={"a": 1}), validators=Validators('"v1"'))
    recorded = server.requests_to("/api")[0]
    assert "if-none-match" not in recorded.headers
    assert recorded.body == b'{"a":1}'


def test_500_is_retried_then_succeeds(server: FakeServer) -> None:
    url = server.add("/flaky", body=b"{}", fail_times=2)
    response = fetch(Request(url))
    assert (response.status, response.attempts) == (200, 3)


def test_persistent_500_is_one_clear_line(server: FakeServer) -> None:
    url = server.add("/down", body=b"{}", fail_times=99)
    with pytest.raises(FetchError) as caught:
        fetch(Request(url))
    assert str(caught.value) == (f"HTTP 500 from 127.0.0.1:{server.port}: HTML error page "
                                 "(after 3 attempts)")
    assert caught.value.status == 500


def test_429_waits_as_long_as_retry_after_says(server: FakeServer) -> None:
    url = server.add("/limited", body=b"{}", fail_times=1, fail_status=429, retry_after="1")
    started = time.perf_counter()
    assert fetch(Request(url)).status == 200
    assert time.perf_counter() - started >= 0.9


def test_429_with_retry_after_beyond_the_cap_gives_up_at_once(server: FakeServer) -> None:
    url = server.add("/later", body=b"{}", fail_times=9, fail_status=429, retry_after="3600")
    started = time.perf_counter()
    with pytest.raises(FetchError, match=r"HTTP 429 .* retry after 3600 s"):
        fetch(Request(url))
    assert time.perf_counter() - started < 1
    assert len(server.requests_to("/later")) == 1


def test_404_is_not_retried(server: FakeServer) -> None:
    with pytest.raises(FetchError, match=r"HTTP 404 from 127\.0\.0\.1:\d+: HTML error page$"):
        fetch(Request(server.url("/missing")))
    assert len(server.requests_to("/missing")) == 1


def test_slow_server_hits_the_deadline(server: FakeServer) -> None:
    url = server.add("/slow", body=b"{}", delay=2)
    settings = HttpSettings(read_timeout=5, deadline=0.5, retries=0)
    with pytest.raises(FetchError, match=r"no complete response from 127\.0\.0\.1:\d+ within "
                                         r"0\.5 s"):
        fetch(Request(url), settings)


def test_read_timeout_is_retried_and_reported(server: FakeServer) -> None:
    url = server.add("/silent", body=b"{}", delay=1)
    settings = HttpSettings(read_timeout=0.2, deadline=5, retries=1, backoff=0.01)
    with pytest.raises(FetchError, match=r"sent nothing for 0\.2 s .*after 2 attempts"):
        fetch(Request(url), settings)


def test_endless_body_stops_at_the_size_cap(server: FakeServer) -> None:
    url = server.add("/endless", endless=True, content_type="application/rss+xml")
    settings = HttpSettings(max_bytes=1_000_000, deadline=10)
    started = time.perf_counter()
    with pytest.raises(FetchError, match=r"exceeded the 1\.0 MB cap; stopped reading"):
        fetch(Request(url), settings)
    assert time.perf_counter() - started < 5


def test_declared_huge_body_is_refused_before_reading(server: FakeServer) -> None:
    url = server.add("/huge", body=b"x" * 2_000_000)
    with pytest.raises(FetchError, match=r"is 1\.9 MB, over the 1\.0 MB cap"):
        fetch(Request(url), HttpSettings(max_bytes=1_000_000))


def test_gzip_bomb_is_capped_on_decoded_size(server: FakeServer) -> None:
    url = server.add("/bomb", body=b"\0" * 3_000_000, gzip=True)
    assert len(gzip.compress(b"\0" * 3_000_000)) < 1_000_000
    with pytest.raises(FetchError, match=r"exceeded the 1\.0 MB cap"):
        fetch(Request(url), HttpSettings(max_bytes=1_000_000))


def test_redirect_loop_is_cut_off(server: FakeServer) -> None:
    server.add("/loop-a", redirect_to="/loop-b")
    url = server.add("/loop-b", redirect_to="/loop-a")
    with pytest.raises(FetchError, match=r"more than 5 redirects from 127\.0\.0\.1:\d+"):
        fetch(Request(url))


def test_redirect_is_followed_and_final_url_kept(server: FakeServer) -> None:
    server.add("/old", redirect_to="/new")
    server.add("/new", body=b"{}")
    assert fetch(Request(server.url("/old"))).url == server.url("/new")


def test_truncated_body_is_reported(server: FakeServer) -> None:
    url = server.add("/cut", body=b'{"data": [1, 2, 3]', truncate=True)
    with pytest.raises(FetchError, match=r"broken response from 127\.0\.0\.1:\d+"):
        fetch(Request(url), HttpSettings(retries=0))


def test_connection_refused_is_reported(server: FakeServer) -> None:
    port = server.port
    server.stop()
    with pytest.raises(FetchError, match=f"cannot connect to 127.0.0.1:{port}"):
        fetch(Request(f"http://127.0.0.1:{port}/x"), HttpSettings(retries=0))


def test_dns_failure_is_named_as_such() -> None:
    # .invalid never resolves (RFC 2606); no network is needed to find that out.
    with pytest.raises(FetchError, match=r"^cannot resolve no-such-host\.invalid \(DNS lookup "
                                         r"failed"):
        fetch(Request("http://no-such-host.invalid/feed"), HttpSettings(retries=0))


def test_per_host_limit_bounds_requests_in_flight(server: FakeServer) -> None:
    server.add("/wait", body=b"{}", delay=0.3)
    settings = HttpSettings(per_host=2, concurrency=10)

    async def go() -> float:
        async with Fetcher(settings) as fetcher:
            started = time.perf_counter()
            await asyncio.gather(*(fetcher.fetch(Request(server.url("/wait"))) for _ in range(4)))
            return time.perf_counter() - started
    assert asyncio.run(go()) >= 0.55  # 4 requests, 2 at a time, 0.3 s each


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime
    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60
    assert parse_retry_after("soon") is None
