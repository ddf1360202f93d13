"""service.crawl and service.source_health over a real SQLite file and the loopback server."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sources.health import FAILING_AFTER, backoff_factor, next_due
from sources.kinds import KINDS, Kind
from sources.model import FetchResult
from tests.fakes.http_server import FakeServer, Route
from tests.sources.helpers import DATA
from topicscout import service
from topicscout.config import Config, CrawlConfig, SourceConfig
from topicscout.errors import InputError, StorageError
from topicscout.store import Store

NOW = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)
EVERY = timedelta(minutes=15)
FAST = CrawlConfig(retries=0, deadline=3, read_timeout=2)


def app_with(store: Store, *sources: SourceConfig, crawl: CrawlConfig = FAST) -> service.App:
    return service.App(config=Config(sources=sources, crawl=crawl), store=store)


def feed_source(server: FakeServer, name: str, path: str, **route: object) -> SourceConfig:
    body = (DATA / "feeds" / "feedparser__rss20.xml").read_bytes()
    server.add(path, Route(body=body, content_type="application/rss+xml", **route))  # type: ignore[arg-type]
    return SourceConfig(name=name, kind="rss", url=server.url(path), every=EVERY)


def crawl(app: service.App, now: datetime = NOW, **kwargs: object) -> service.CrawlReport:
    return asyncio.run(service.crawl(app, now=now, **kwargs))  # type: ignore[arg-type]


def test_backoff_stretches_the_interval_and_is_capped() -> None:
    assert [backoff_factor(n) for n in range(8)] == [1, 1, 2, 4, 8, 16, 16, 16]
    assert next_due(NOW, EVERY, 0) == NOW + EVERY
    assert next_due(NOW, EVERY, 3) == NOW + 4 * EVERY
    assert next_due(NOW, timedelta(hours=6), 9) == NOW + timedelta(hours=24)


def test_retry_after_keeps_a_rate_limited_source_away(server: FakeServer,
                                                      store: Store) -> None:
    app = app_with(store, feed_source(server, "busy", "/busy", fail_times=9, fail_status=429,
                                      retry_after="7200"))
    report = crawl(app)
    assert report.outcomes[0].error == (f"HTTP 429 from 127.0.0.1:{server.port}: HTML error "
                                        "page (Retry-After 7200 s)")
    assert store.source_states()["busy"].next_due == NOW + timedelta(hours=2)
    assert next_due(NOW, EVERY, 1, retry_after=10**9) == NOW + timedelta(hours=24)


def test_repeated_failures_back_off_then_report_failing_but_never_drop(
        server: FakeServer, store: Store) -> None:
    app = app_with(store, feed_source(server, "flaky", "/f", fail_times=99))
    now = NOW
    for failures in range(1, FAILING_AFTER + 2):
        report = crawl(app, now)
        assert [o.status for o in report.outcomes] == ["failed"]  # still fetched when due
        state = store.source_states()["flaky"]
        assert state.consecutive_failures == failures
        assert state.next_due == next_due(now, EVERY, failures)
        now = state.next_due  # type: ignore[assignment]
    health = service.source_health(app)
    assert [(h.name, h.status, h.consecutive_failures) for h in health] == [
        ("flaky", "failing", FAILING_AFTER + 1)]
    assert health[0].last_error and health[0].last_error.startswith("HTTP 500 from 127.0.0.1")


def test_a_success_resets_failures_and_keeps_the_last_error_for_the_record(
        server: FakeServer, store: Store) -> None:
    app = app_with(store, feed_source(server, "f", "/f", fail_times=1, etag='"e1"'))
    crawl(app)
    report = crawl(app, NOW + EVERY)
    assert [o.status for o in report.outcomes] == ["ok"]
    state = store.source_states()["f"]
    assert (state.consecutive_failures, state.etag) == (0, '"e1"')
    assert state.last_success == NOW + EVERY and state.last_error_at == NOW
    assert service.source_health(app)[0].status == "ok"


def test_not_due_sources_wait_and_only_forces_one(server: FakeServer, store: Store) -> None:
    app = app_with(store, feed_source(server, "a", "/a"), feed_source(server, "b", "/b"))
    assert len(crawl(app).outcomes) == 2
    later = crawl(app, NOW + timedelta(minutes=5))
    assert (later.outcomes, sorted(later.not_due)) == ([], ["a", "b"])
    forced = crawl(app, NOW + timedelta(minutes=5), only="b")
    assert [o.name for o in forced.outcomes] == ["b"]


def test_unknown_and_disabled_sources_are_input_errors(server: FakeServer, store: Store) -> None:
    off = replace(feed_source(server, "off", "/off"), enabled=False)
    app = app_with(store, off)
    with pytest.raises(InputError, match="no such source"):
        crawl(app, only="nope")
    with pytest.raises(InputError, match="is disabled"):
        crawl(app, only="off")
    assert crawl(app).outcomes == []  # disabled: not fetched
    assert service.source_health(app)[0].status == "disabled"


def test_items_are_stored_with_one_snapshot_per_fetch(server: FakeServer, store: Store) -> None:
    app = app_with(store, feed_source(server, "f", "/f"))
    first = crawl(app)
    crawl(app, NOW + EVERY)
    assert (first.outcomes[0].items_new, first.outcomes[0].snapshots_new) == (1, 1)
    assert store.counts()["items"] == 1 and store.counts()["snapshots"] == 2
    assert store.source_states()["f"].items_total == 1
    observed = store.observations(NOW - EVERY, NOW + EVERY)
    assert [(o.platform, o.seen_at) for o in observed] == [("f", NOW), ("f", NOW + EVERY)]


def test_failure_keeps_validators_and_stored_items(server: FakeServer, store: Store) -> None:
    source = feed_source(server, "f", "/f", etag='"v1"')
    app = app_with(store, source)
    crawl(app)
    server.routes["/f"].fail_times = 99  # from now on it is broken
    server.routes["/f"].hits = 0
    crawl(app, NOW + EVERY)
    state = store.source_states()["f"]
    assert state.etag == '"v1"' and state.consecutive_failures == 1
    assert store.counts()["items"] == 1


def test_slowest_sources_start_first_on_the_next_crawl(server: FakeServer, store: Store) -> None:
    one_at_a_time = replace(FAST, concurrency=1, per_host=1)
    sources = [feed_source(server, "quick", "/quick"),
               feed_source(server, "slow", "/slow", delay=0.3)]
    app = app_with(store, *sources, crawl=one_at_a_time)
    crawl(app)
    server.requests.clear()
    crawl(app, NOW + EVERY)
    assert [r.path for r in server.requests] == ["/slow", "/quick"]
    assert store.source_states()["slow"].last_elapsed >= 0.3  # type: ignore[operator]


def test_on_result_sees_every_fetch(server: FakeServer, store: Store) -> None:
    seen: list[FetchResult] = []
    app = app_with(store, feed_source(server, "a", "/a"), feed_source(server, "b", "/gone"))
    server.routes["/gone"].status = 410
    crawl(app, on_result=seen.append)
    assert sorted((r.source, r.ok) for r in seen) == [("a", True), ("b", False)]


def test_a_bug_in_a_parser_propagates_instead_of_being_recorded(
        server: FakeServer, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_source: object) -> object:
        def parse(_body: bytes, _ctx: object) -> list[object]:
            raise KeyError("bug")
        return parse
    monkeypatch.setitem(KINDS, "rss", Kind(KINDS["rss"].request, broken))  # type: ignore[arg-type]
    app = app_with(store, feed_source(server, "a", "/a"))
    with pytest.raises(ExceptionGroup) as caught:
        crawl(app)
    assert caught.group_contains(KeyError)
    assert store.source_states() == {}


def test_a_storage_error_ends_the_crawl_as_itself(server: FakeServer, store: Store,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args: object, **_kwargs: object) -> None:
        raise StorageError("cannot record the fetch of a: database or disk is full")
    monkeypatch.setattr(store, "record_fetch", full)
    with pytest.raises(StorageError, match="disk is full"):
        crawl(app_with(store, feed_source(server, "a", "/a")))


def test_a_parser_that_hangs_is_given_up_on(server: FakeServer, store: Store,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import time as clock

    def stuck(_source: object) -> object:
        def parse(_body: bytes, _ctx: object) -> list[object]:
            clock.sleep(1.5)
            return []
        return parse
    monkeypatch.setitem(KINDS, "rss", Kind(KINDS["rss"].request, stuck))  # type: ignore[arg-type]
    app = app_with(store, feed_source(server, "a", "/a"), crawl=replace(FAST, deadline=0.5))
    report = crawl(app)
    assert report.outcomes[0].error == "parsing the response took longer than 0.5 s; gave up"


def test_health_lists_sources_that_left_the_config(server: FakeServer, store: Store) -> None:
    crawl(app_with(store, feed_source(server, "old", "/old")))
    rows = service.source_health(app_with(store))
    assert [(r.name, r.status, r.items_total) for r in rows] == [("old", "not in config", 1)]
