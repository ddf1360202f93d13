"""Job bodies on a real SQLite file with an injected clock: exactly-once digests, alerts,
analysis after new data, retention, and a few simulated days of the whole job table."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.replay_crawler import ReplayCrawler
from tests.service.conftest import REPLAY, Clock, RecordingSender
from topicscout import service
from topicscout.errors import StorageError
from topicscout.jobs import LOG_CHAT, LogSender, Service, daily_digest
from topicscout.schedule import job_table, latest_slot, simulate

SHANGHAI = ZoneInfo("Asia/Shanghai")
SLOT = datetime.fromisoformat("2026-01-20T09:30:00+08:00").astimezone(UTC)
DAY = "2026-01-20"
T = TypeVar("T")
AppFactory = Callable[..., service.App]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def start(app: service.App, sender: Any, now: datetime,
          crawler: Any = None) -> tuple[Service, Clock]:
    clock = Clock(now)
    return Service(app, crawler=crawler or ReplayCrawler(REPLAY), sender=sender,
                   clock=clock), clock


async def crawl_all(jobs: Service) -> None:
    for source in jobs.config.sources:
        await jobs.crawl_source(source.name)


def statuses(app: service.App) -> dict[int, str]:
    return {r["chat_id"]: r["status"] for r in app.store.iter_rows(
        "SELECT chat_id, status FROM deliveries WHERE day = ?", [DAY])}


def daily_count(app: service.App) -> int:
    return len(list(app.store.iter_rows("SELECT id FROM digests WHERE kind = 'daily'")))


def test_digest_is_sent_once_per_chat_and_never_again_after_a_restart(
        app_factory: AppFactory) -> None:
    app, sender = app_factory(), RecordingSender()
    jobs, _ = start(app, sender, SLOT)
    run(crawl_all(jobs))
    run(jobs.digest_due())
    run(jobs.digest_due())  # a second fire of the same slot (coalesce gone wrong) sends nothing
    jobs.close()
    assert sorted(c for c, _ in sender.sent) == [-1002, -1001]
    assert statuses(app) == {-1001: "sent", -1002: "sent"}
    restarted, _ = start(app_factory(), sender, SLOT + timedelta(minutes=20))
    run(restarted.resolve_interrupted())
    run(restarted.digest_due())
    restarted.close()
    assert len(sender.sent) == 2
    assert daily_count(app) == 1
    digest_ids = {d for _, d in sender.sent}
    assert len(digest_ids) == 1 and digest_ids != {None}


def test_a_digest_missed_within_grace_is_sent_late_once(app_factory: AppFactory) -> None:
    app, sender = app_factory(grace="3h"), RecordingSender()
    jobs, clock = start(app, sender, SLOT + timedelta(hours=2, minutes=59))
    run(crawl_all(jobs))
    run(jobs.digest_due())
    clock.now += timedelta(minutes=30)  # now beyond grace: still nothing more
    run(jobs.digest_due())
    jobs.close()
    assert sorted(c for c, _ in sender.sent) == [-1002, -1001]
    # Made as of the slot, not as of the late moment: the digest the team would have had.
    row = app.store.latest_digest(kind="daily")
    assert row is not None and row["as_of"] == int(SLOT.timestamp())


def test_a_digest_missed_beyond_grace_is_skipped_and_logged(
        app_factory: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    app, sender = app_factory(grace="3h"), RecordingSender()
    jobs, clock = start(app, sender, SLOT - timedelta(days=1))  # it ran yesterday morning
    run(jobs.digest_due())
    sent_yesterday = len(sender.sent)
    clock.now = SLOT + timedelta(hours=3, seconds=1)  # then was down until after the grace
    with caplog.at_level(logging.WARNING, logger="topicscout.jobs"):
        run(jobs.digest_due())
        run(jobs.digest_due())
    jobs.close()
    assert len(sender.sent) == sent_yesterday == 2
    assert statuses(app) == {-1001: "failed", -1002: "failed"}
    skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 2  # one line per chat, not one per check
    assert daily_count(app) == 1  # yesterday's only


def test_a_first_start_after_the_digest_time_owes_nothing_and_warns_nothing(
        app_factory: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    app, sender = app_factory(grace="3h"), RecordingSender()
    jobs, _ = start(app, sender, SLOT + timedelta(hours=5))
    with caplog.at_level(logging.WARNING, logger="topicscout.jobs"):
        run(jobs.digest_due())
    jobs.close()
    assert sender.sent == [] and statuses(app) == {}
    assert not [r for r in caplog.records if "skipped" in r.getMessage()]


def test_a_send_interrupted_by_a_crash_is_not_resent_and_admins_are_told_once(
        app_factory: AppFactory) -> None:
    app, sender = app_factory(), RecordingSender()
    # What a crash between "claim" and "sent" leaves behind:
    app.store.claim_delivery(-1001, DAY, None, SLOT)
    jobs, _ = start(app, sender, SLOT + timedelta(minutes=5))
    run(crawl_all(jobs))
    run(jobs.resolve_interrupted())
    run(jobs.resolve_interrupted())
    run(jobs.digest_due())
    jobs.close()
    assert [c for c, _ in sender.sent] == [-1002]
    assert statuses(app) == {-1001: "failed", -1002: "sent"}
    assert len(sender.alerts) == 1 and DAY in sender.alerts[0]


def test_a_restart_between_making_and_sending_reuses_the_stored_digest(
        app_factory: AppFactory) -> None:
    app, sender = app_factory(), RecordingSender()
    jobs, _ = start(app, sender, SLOT)
    run(crawl_all(jobs))
    made = daily_digest(app, latest_slot(SLOT, time(9, 30), SHANGHAI))  # then it died
    app.store.claim_delivery(-1001, DAY, made.digest_id, SLOT)
    app.store.finish_delivery(-1001, DAY, "sent", SLOT)
    run(jobs.digest_due())
    jobs.close()
    assert sender.sent == [(-1002, made.digest_id)]
    assert daily_count(app) == 1
    reloaded = service.load_digest(app, made.digest_id or 0)
    assert [i.topic.title for i in reloaded.ideas] == [i.topic.title for i in made.ideas]
    assert reloaded.idea_ids == made.idea_ids
    assert reloaded.new_topics == made.new_topics
    assert [i.topic.why for i in reloaded.ideas] == [i.topic.why for i in made.ideas]


def test_a_chat_that_unsubscribed_gets_no_digest(app_factory: AppFactory) -> None:
    app, sender = app_factory(), RecordingSender()
    app.store.set_subscribed(-1002, False, SLOT - timedelta(days=1))
    jobs, _ = start(app, sender, SLOT)
    run(crawl_all(jobs))
    run(jobs.digest_due())
    jobs.close()
    assert [c for c, _ in sender.sent] == [-1001]
    assert -1002 not in statuses(app)


def test_a_failed_send_is_recorded_alerted_once_and_not_retried(
        app_factory: AppFactory) -> None:
    app, sender = app_factory(), RecordingSender(failing={-1001, -1002})
    jobs, clock = start(app, sender, SLOT)
    run(crawl_all(jobs))
    run(jobs.digest_due())
    clock.now += timedelta(minutes=10)
    run(jobs.digest_due())
    jobs.close()
    assert statuses(app) == {-1001: "failed", -1002: "failed"}
    assert len(sender.alerts) == 1
    assert "-1001" in sender.alerts[0] and "-1002" in sender.alerts[0]
    errors = [r["error"] for r in app.store.iter_rows("SELECT error FROM deliveries")]
    assert all("kicked" in e for e in errors)


def test_without_telegram_the_digest_goes_to_the_log_and_the_database(
        app_factory: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    app = app_factory()
    jobs, _ = start(app, LogSender(), SLOT)
    with caplog.at_level(logging.INFO, logger="topicscout.jobs"):
        run(crawl_all(jobs))
        run(jobs.digest_due())
        run(jobs.digest_due())
    jobs.close()
    assert jobs.targets() == [LOG_CHAT]
    assert {r["chat_id"]: r["status"] for r in app.store.iter_rows(
        "SELECT * FROM deliveries")} == {LOG_CHAT: "sent"}
    row = app.store.latest_digest(kind="daily")
    assert row is not None
    ideas = app.store.digest_ideas(row["id"])
    assert ideas, "the daily digest has ideas"
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("digest #")]
    assert len(logged) == len(ideas)
    assert ideas[0]["title"] in logged[0]


class FlakyCrawler:
    """Fails while ``down`` is True; otherwise reports one fetched item per source."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    async def __call__(self, app: Any, *, now: datetime, only: str,
                       on_result: Callable[[Any], None]) -> None:
        from tests.fakes.replay_crawler import ReplayResult
        self.calls += 1
        on_result(ReplayResult(only, (), error="HTTP 502" if self.down else None))


def test_a_failing_source_alerts_once_and_its_recovery_once_across_restarts(
        app_factory: AppFactory) -> None:
    sender, crawler = RecordingSender(), FlakyCrawler()
    jobs, _ = start(app_factory(), sender, SLOT, crawler)
    crawler.down = True
    for _ in range(4):
        run(jobs.crawl_source("weibo"))
    jobs.close()
    restarted, _ = start(app_factory(), sender, SLOT, crawler)
    run(restarted.crawl_source("weibo"))  # still failing after a restart: no second alert
    crawler.down = False
    run(restarted.crawl_source("weibo"))
    run(restarted.crawl_source("weibo"))
    restarted.close()
    assert len(sender.alerts) == 2
    assert "weibo failed 2 fetches in a row" in sender.alerts[0] and "HTTP 502" in sender.alerts[0]
    assert "weibo recovered" in sender.alerts[1]


def test_analysis_runs_after_new_data_and_not_otherwise(app_factory: AppFactory) -> None:
    jobs, clock = start(app_factory(), RecordingSender(), SLOT)
    assert run(jobs.analyze()) is None
    run(jobs.crawl_source("weibo"))
    topics = run(jobs.analyze())
    assert topics is not None and topics > 0
    assert run(jobs.analyze()) is None  # nothing new since
    clock.now += timedelta(minutes=1)
    run(jobs.crawl_source("weibo"))  # nothing archived in that minute: no new data
    assert run(jobs.analyze()) is None
    jobs.close()


def test_retention_prunes_old_snapshots_but_keeps_the_items_of_voted_ideas(
        app_factory: AppFactory) -> None:
    app = app_factory()  # retention 1d
    jobs, clock = start(app, RecordingSender(), SLOT - timedelta(days=1))
    run(crawl_all(jobs))
    digest = service.make_digest(app, SLOT - timedelta(days=1), kind="daily")
    idea_id = digest.idea_ids[0]
    app.store.set_vote(idea_id, 7, "ops", "star", SLOT)
    evidence = app.store.idea(idea_id)["items"]  # type: ignore[index]
    clock.now = SLOT + timedelta(days=1)
    counts = run(jobs.prune())
    jobs.close()
    assert counts.snapshots > 0 and counts.items > 0
    cutoff = int((clock.now - timedelta(days=1)).timestamp())
    old = list(app.store.iter_rows(
        "SELECT i.platform, i.title FROM snapshots s JOIN items i ON i.id = s.item_id"
        " WHERE s.seen_at < ? GROUP BY i.id", [cutoff]))
    kept = {(r["platform"], r["title"]) for r in old}
    for record in evidence:
        assert (record["platform"], record["title"]) in kept
    assert app.store.tallies(idea_id)["star"] == 1
    assert app.store.integrity_ok()


def test_three_simulated_days_give_one_digest_per_chat_per_day(
        app_factory: AppFactory) -> None:
    app, sender = app_factory(), RecordingSender()
    begin = datetime.fromisoformat("2026-01-19T00:00:00+08:00").astimezone(UTC)
    jobs, clock = start(app, sender, begin)
    specs = job_table(jobs, begin, analysis_every=timedelta(hours=6))

    def set_now(moment: datetime) -> None:
        clock.now = moment

    run(simulate(specs, begin, begin + timedelta(days=3), set_now))
    jobs.close()
    days = sorted(r["day"] for r in app.store.iter_rows(
        "SELECT day FROM deliveries WHERE status = 'sent' AND chat_id = -1001"))
    assert days == ["2026-01-19", "2026-01-20", "2026-01-21"]
    assert len(sender.sent) == 6
    assert daily_count(app) == 3


def test_when_every_chat_unsubscribed_the_digest_is_still_made_and_logged(
        app_factory: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    app, sender = app_factory(), RecordingSender()
    for chat in (-1001, -1002):
        app.store.set_subscribed(chat, False, SLOT - timedelta(days=1))
    jobs, _ = start(app, sender, SLOT)
    with caplog.at_level(logging.INFO, logger="topicscout.jobs"):
        run(crawl_all(jobs))
        run(jobs.digest_due())
    jobs.close()
    assert sender.sent == []
    assert statuses(app) == {LOG_CHAT: "sent"}
    assert daily_count(app) == 1
    assert any(r.getMessage().startswith("digest #1 ") for r in caplog.records)


def test_a_database_that_refuses_writes_sends_nothing_and_the_next_run_sends_once(
        app_factory: AppFactory) -> None:
    app, sender = app_factory(), RecordingSender()
    jobs, _ = start(app, sender, SLOT)
    run(crawl_all(jobs))
    app.store.db.execute("PRAGMA query_only = ON")  # what a full disk looks like to a writer
    with pytest.raises(StorageError, match="record the digest of 2026-01-20"):
        run(jobs.digest_due())
    assert sender.sent == []  # nothing goes out unless its delivery row could be written
    app.store.db.execute("PRAGMA query_only = OFF")
    run(jobs.digest_due())
    run(jobs.digest_due())
    jobs.close()
    assert sorted(c for c, _ in sender.sent) == [-1002, -1001]
    assert daily_count(app) == 1  # the digest made before the failure is the one sent


def test_every_failed_crawl_logs_its_error_line(
        app_factory: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    crawler = FlakyCrawler()
    crawler.down = True
    jobs, _ = start(app_factory(), RecordingSender(), SLOT, crawler)
    with caplog.at_level(logging.WARNING, logger="topicscout.jobs"):
        run(jobs.crawl_source("weibo"))
    jobs.close()
    failed = [r.getMessage() for r in caplog.records if "failed:" in r.getMessage()]
    assert len(failed) == 1 and failed[0].startswith("crawl source=weibo failed: ")
    assert "HTTP 502" in failed[0]
