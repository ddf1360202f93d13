"""Schedule maths: digest slots across zones, DST and day boundaries; health; the job table."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from hypothesis import given
from hypothesis import strategies as st

from topicscout.errors import StorageError
from topicscout.schedule import (
    FAILURES_BEFORE_ALERT,
    DigestTrigger,
    Health,
    JobSpec,
    Runner,
    install,
    is_within_grace,
    job_table,
    latest_slot,
    next_health,
    next_slot,
    slot_of,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
AT = time(9, 30)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_next_slot_is_today_before_the_time_and_tomorrow_from_it_on() -> None:
    assert next_slot(utc("2026-01-20T09:29:59+08:00"), AT, SHANGHAI).at == \
        utc("2026-01-20T09:30:00+08:00")
    # At the exact moment the slot is "now", so the next one is tomorrow's.
    slot = next_slot(utc("2026-01-20T09:30:00+08:00"), AT, SHANGHAI)
    assert slot.day == date(2026, 1, 21)
    assert slot.at == utc("2026-01-21T09:30:00+08:00")


def test_slot_day_is_the_local_day_not_the_utc_day() -> None:
    # 00:10 in Shanghai is 16:10 UTC of the previous UTC day.
    slot = next_slot(utc("2026-01-20T16:05:00Z"), time(0, 10), SHANGHAI)
    assert slot.day == date(2026, 1, 21)
    assert slot.at == utc("2026-01-20T16:10:00Z")
    assert latest_slot(utc("2026-01-20T16:05:00Z"), time(0, 10), SHANGHAI).day == \
        date(2026, 1, 20)


def test_a_time_in_the_spring_forward_gap_moves_forward_by_the_gap() -> None:
    # 2026-03-08: New York jumps from 02:00 EST to 03:00 EDT; 02:30 does not exist.
    slot = slot_of(date(2026, 3, 8), time(2, 30), NEW_YORK)
    assert slot.at == utc("2026-03-08T03:30:00-04:00")


def test_a_repeated_time_at_fall_back_fires_once_at_its_first_occurrence() -> None:
    # 2026-11-01: 01:30 happens in EDT (-04:00) and again in EST (-05:00).
    first = utc("2026-11-01T01:30:00-04:00")
    assert slot_of(date(2026, 11, 1), time(1, 30), NEW_YORK).at == first
    following = next_slot(first, time(1, 30), NEW_YORK)
    assert following.day == date(2026, 11, 2)


def test_dst_days_are_23_and_25_hours_apart_in_utc() -> None:
    before = slot_of(date(2026, 3, 7), AT, NEW_YORK).at
    after = slot_of(date(2026, 3, 8), AT, NEW_YORK).at
    assert after - before == timedelta(hours=23)
    assert (slot_of(date(2026, 11, 1), AT, NEW_YORK).at
            - slot_of(date(2026, 10, 31), AT, NEW_YORK).at) == timedelta(hours=25)


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                       timezones=st.just(UTC))
clock_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
zones = st.sampled_from([SHANGHAI, NEW_YORK, ZoneInfo("Europe/London"),
                         ZoneInfo("Australia/Lord_Howe"), UTC])


@given(moments, clock_times, zones)
def test_every_local_day_has_exactly_one_slot_in_order(now: datetime, at: time,
                                                        tz: ZoneInfo) -> None:
    latest, upcoming = latest_slot(now, at, tz), next_slot(now, at, tz)
    assert latest.at <= now < upcoming.at
    assert upcoming.day == latest.day + timedelta(days=1)
    assert next_slot(latest.at, at, tz) == upcoming


def test_grace_is_inclusive_and_never_before_the_slot() -> None:
    slot = slot_of(date(2026, 1, 20), AT, SHANGHAI)
    grace = timedelta(hours=3)
    assert is_within_grace(slot, slot.at, grace)
    assert is_within_grace(slot, slot.at + grace, grace)
    assert not is_within_grace(slot, slot.at + grace + timedelta(seconds=1), grace)
    assert not is_within_grace(slot, slot.at - timedelta(seconds=1), grace)


def test_a_failure_episode_alerts_once_when_it_starts_and_once_when_it_ends() -> None:
    health, alerts = Health(), []
    for failed in [True] * (FAILURES_BEFORE_ALERT + 3) + [False, False, True]:
        health, change = next_health(health, failed)
        alerts.append(change)
    assert [a for a in alerts if a] == ["failing", "recovered"]
    assert alerts.index("failing") == FAILURES_BEFORE_ALERT - 1
    assert health == Health(failures=1, alerted=False)


def test_a_single_failure_followed_by_success_alerts_nobody() -> None:
    health, change = next_health(Health(), True)
    assert change is None
    assert next_health(health, False) == (Health(), None)


def test_digest_trigger_fires_at_slots_shifted_by_the_clock_offset() -> None:
    offset = timedelta(days=-300)  # the service clock runs 300 days behind the wall clock
    trigger = DigestTrigger(AT, SHANGHAI, offset)
    wall = utc("2026-11-20T09:00:00+08:00")
    fire = trigger.get_next_fire_time(None, wall)
    assert fire is not None
    assert fire + offset == next_slot(wall + offset, AT, SHANGHAI).at
    again = trigger.get_next_fire_time(fire, fire)
    assert again == fire + timedelta(days=1)


class _Jobs:
    """Just enough of jobs.Service for the job table."""

    def __init__(self, config: object) -> None:
        self.config = config

    async def crawl_source(self, name: str) -> None: ...
    async def digest_due(self) -> None: ...
    async def analyze(self) -> None: ...
    async def prune(self) -> None: ...


def test_jobs_are_coalesced_single_instance_with_explicit_misfire_grace() -> None:
    asyncio.run(_check_job_table())


async def _check_job_table() -> None:
    from topicscout.config import parse_config
    config = parse_config({
        "digest": {"grace": "2h"},
        "sources": [{"name": "a", "kind": "hotlist", "platform": "weibo", "every": "10m"},
                    {"name": "b", "kind": "hotlist", "platform": "zhihu", "enabled": False}]})
    start = utc("2026-01-20T08:00:00+08:00")
    specs = job_table(_Jobs(config), start)
    assert [s.id for s in specs] == ["crawl:a", "digest", "analyze", "retention"]
    scheduler = AsyncIOScheduler(timezone=UTC)
    install(scheduler, specs, Runner())
    scheduler.start(paused=True)
    try:
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert all(j.coalesce and j.max_instances == 1 for j in jobs.values())
        assert jobs["crawl:a"].misfire_grace_time == 600
        assert jobs["digest"].misfire_grace_time == 7200
        assert jobs["digest"].next_run_time == start  # catch-up check at start-up
    finally:
        scheduler.shutdown(wait=False)


def test_a_failing_job_is_one_log_line_and_the_runner_keeps_going(
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise StorageError("cannot record the digest: database or disk is full")

    async def buggy() -> None:
        raise KeyError("bug")

    runner = Runner()
    start = utc("2026-01-20T08:00:00+08:00")
    specs = [JobSpec("retention", broken, DigestTrigger(AT, SHANGHAI), timedelta(0), start),
             JobSpec("digest", buggy, DigestTrigger(AT, SHANGHAI), timedelta(0), start)]
    with caplog.at_level(logging.ERROR, logger="topicscout.schedule"):
        asyncio.run(runner.wrap(specs[0])())
        asyncio.run(runner.wrap(specs[1])())
    assert [r.getMessage() for r in caplog.records] == [
        "job retention failed: cannot record the digest: database or disk is full",
        "job digest crashed (a bug: please report it)"]
    assert caplog.records[1].exc_info is not None  # the bug keeps its traceback
    assert runner.running == set()


def test_drain_waits_for_jobs_in_flight_and_cancels_what_overruns() -> None:
    finished: list[str] = []

    def job(name: str, seconds: float) -> JobSpec:
        async def body() -> None:
            await asyncio.sleep(seconds)
            finished.append(name)
        return JobSpec(name, body, DigestTrigger(AT, SHANGHAI), timedelta(0), None)

    async def scenario() -> bool:
        runner = Runner()
        for spec in (job("quick", 0.01), job("stuck", 30)):
            asyncio.get_running_loop().create_task(runner.wrap(spec)())
        await asyncio.sleep(0)
        return await runner.drain(timeout=0.2)

    assert asyncio.run(scenario()) is False
    assert finished == ["quick"]
