"""When things happen: the pure schedule maths of the service, and its APScheduler triggers.

Everything here is a function of its inputs and ``now`` (aware UTC), so tests run days of
schedule in microseconds and never sleep. The job bodies live in :mod:`topicscout.jobs`; the
process (signals, logging, bot) in :mod:`topicscout.run`.

Digest days: the daily digest belongs to a *local calendar day* in ``[digest] timezone``. Its
moment is ``[digest] time`` on that day. Where that wall-clock time does not exist (a DST
spring-forward gap) it moves forward by the gap (02:30 in a 02:00→03:00 gap fires at 03:30);
where it exists twice (fall back) the first occurrence counts. So every local day has exactly
one slot, and the day string (``YYYY-MM-DD``) is the exactly-once key of the ``deliveries`` table.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from topicscout.errors import TopicscoutError

if TYPE_CHECKING:  # jobs imports this module's schedule maths
    from topicscout.jobs import Service

log = logging.getLogger("topicscout.schedule")


@dataclass(frozen=True)
class Slot:
    """The daily digest of one local day."""

    day: date  # local calendar day in the digest timezone: the exactly-once key
    at: datetime  # aware UTC moment the digest is due

    @property
    def key(self) -> str:
        return self.day.isoformat()


def slot_of(day: date, at: time, tz: tzinfo) -> Slot:
    """The digest slot of ``day``; see the module docstring for DST gaps and repeats."""
    local = datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    return Slot(day=day, at=local.astimezone(UTC))


def local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def next_slot(now: datetime, at: time, tz: tzinfo) -> Slot:
    """The first slot strictly after ``now``."""
    today = local_day(now, tz)
    for offset in (-1, 0, 1, 2):  # -1: a slot shifted past midnight by DST still belongs to it
        slot = slot_of(today + timedelta(days=offset), at, tz)
        if slot.at > now:
            return slot
    raise AssertionError("no digest slot within two days")  # pragma: no cover


def latest_slot(now: datetime, at: time, tz: tzinfo) -> Slot:
    """The last slot at or before ``now`` (the one a restarted service may still owe)."""
    today = local_day(now, tz)
    for offset in (1, 0, -1, -2):
        slot = slot_of(today + timedelta(days=offset), at, tz)
        if slot.at <= now:
            return slot
    raise AssertionError("no digest slot within two days")  # pragma: no cover


def is_within_grace(slot: Slot, now: datetime, grace: timedelta) -> bool:
    """A slot is still owed while ``now`` is no later than ``grace`` after it."""
    return slot.at <= now <= slot.at + grace


# -- source health --------------------------------------------------------------------------

# A single failed fetch is usually a blip (timeout, 502); two in a row is worth telling admins.
FAILURES_BEFORE_ALERT = 2


@dataclass(frozen=True)
class Health:
    """What the service remembers about a source between fetches (persisted in the store)."""

    failures: int = 0  # consecutive failed fetches
    alerted: bool = False  # admins were told it is failing and not yet told it recovered


def next_health(health: Health, failed: bool) -> tuple[Health, str | None]:
    """The new health after one fetch, and "failing" / "recovered" when admins must be told.

    Exactly one alert per failure episode: when it reaches FAILURES_BEFORE_ALERT, and one
    when the first success after that alert comes in.
    """
    if failed:
        failures = health.failures + 1
        if not health.alerted and failures >= FAILURES_BEFORE_ALERT:
            return Health(failures, True), "failing"
        return Health(failures, health.alerted), None
    if health.alerted:
        return Health(), "recovered"
    return Health(), None


# -- triggers -------------------------------------------------------------------------------


class DigestTrigger(BaseTrigger):
    """Fires at each digest slot, computed by :func:`next_slot` (DST rules above).

    ``offset`` shifts the service clock against the wall clock APScheduler runs on; it is zero
    except under the test-only ``TOPICSCOUT_CLOCK_OFFSET`` hook.
    """

    def __init__(self, at: time, tz: tzinfo, offset: timedelta = timedelta(0)) -> None:
        self.at, self.tz, self.offset = at, tz, offset

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        after = now if previous_fire_time is None else max(now, previous_fire_time)
        slot = next_slot(after.astimezone(UTC) + self.offset, self.at, self.tz)
        return slot.at - self.offset

    def __getstate__(self) -> dict[str, Any]:  # jobs stay in memory; no pickling needed
        raise NotImplementedError("DigestTrigger is for the in-memory job store")

    def __str__(self) -> str:
        return f"digest at {self.at:%H:%M} {self.tz}"


# -- the job table ------------------------------------------------------------------------

# Analysis runs at most this often, and only when a crawl brought new data since the last one.
ANALYSIS_EVERY = timedelta(minutes=5)
# Retention's cutoff moves a day at a time; running it more often only costs I/O.
RETENTION_EVERY = timedelta(days=1)
# Sources start a few seconds apart so a restart does not hit every site at the same instant.
STAGGER = timedelta(seconds=2)


def crawl_jitter(every: timedelta) -> float:
    """Seconds of random delay per crawl: a tenth of the interval, at most a minute."""
    return min(every.total_seconds() / 10, 60.0)


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job, independent of who runs it (APScheduler, or the simulator)."""

    id: str
    func: Callable[[], Awaitable[Any]]  # the job body
    trigger: BaseTrigger
    misfire_grace: timedelta  # how late a run may still start (APScheduler's default is 1 s)
    first_run: datetime | None  # a run at start-up before the trigger's own times, or None


def job_table(jobs: Service, start: datetime, *, offset: timedelta = timedelta(0),
              analysis_every: timedelta = ANALYSIS_EVERY) -> list[JobSpec]:
    """The service's jobs for a :class:`topicscout.jobs.Service` started at ``start``.

    One interval job per enabled source (each at its own ``every``, with jitter) rather than
    one tick crawling "due" sources: the cadence is then APScheduler's, visible in the job
    list, and does not depend on how the crawler keeps due times. The digest job also runs
    once at start-up to catch up on a slot missed while the service was down.
    """
    config = jobs.config
    specs = []
    enabled = [s for s in config.sources if s.enabled]
    for index, source in enumerate(enabled):
        specs.append(JobSpec(
            id=f"crawl:{source.name}", func=functools.partial(jobs.crawl_source, source.name),
            trigger=IntervalTrigger(seconds=source.every.total_seconds(), start_date=start,
                                    jitter=crawl_jitter(source.every), timezone=UTC),
            misfire_grace=source.every, first_run=start + STAGGER * index))
    digest = config.digest
    specs.append(JobSpec(id="digest", func=jobs.digest_due,
                         trigger=DigestTrigger(digest.time, digest.tz, offset),
                         misfire_grace=digest.grace, first_run=start))
    specs.append(JobSpec(id="analyze", func=jobs.analyze,
                         trigger=IntervalTrigger(seconds=analysis_every.total_seconds(),
                                                 start_date=start, timezone=UTC),
                         misfire_grace=analysis_every, first_run=None))
    specs.append(JobSpec(id="retention", func=jobs.prune,
                         trigger=IntervalTrigger(seconds=RETENTION_EVERY.total_seconds(),
                                                 start_date=start, timezone=UTC),
                         misfire_grace=timedelta(hours=1),
                         first_run=start + timedelta(minutes=1)))
    return specs


class Runner:
    """Runs job bodies: one log line when a job fails, and a record of what is in flight.

    Expected failures (TopicscoutError: storage full, a source config the crawler refuses)
    are one error line; a bug gets its traceback in the log and the service keeps running,
    because one broken job must not stop the daily digest.
    """

    def __init__(self) -> None:
        self.running: set[asyncio.Task[Any]] = set()

    def wrap(self, spec: JobSpec) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            task = asyncio.current_task()
            assert task is not None
            self.running.add(task)
            try:
                await spec.func()
            except TopicscoutError as e:
                log.error("job %s failed: %s", spec.id, e)
            except Exception:
                log.exception("job %s crashed (a bug: please report it)", spec.id)
            finally:
                self.running.discard(task)
        return job

    async def drain(self, timeout: float) -> bool:
        """Wait for jobs in flight; True when all finished within ``timeout`` seconds."""
        if not self.running:
            return True
        _, pending = await asyncio.wait(set(self.running), timeout=timeout)
        for task in pending:
            task.cancel()
        return not pending


def install(scheduler: AsyncIOScheduler, specs: Sequence[JobSpec], runner: Runner) -> None:
    """Add the jobs: coalesced, one instance at a time, an explicit misfire grace each."""
    for spec in specs:
        extra: dict[str, Any] = {}
        if spec.first_run is not None:
            extra["next_run_time"] = spec.first_run
        scheduler.add_job(runner.wrap(spec), trigger=spec.trigger, id=spec.id, name=spec.id,
                          misfire_grace_time=int(spec.misfire_grace.total_seconds()),
                          coalesce=True, max_instances=1, **extra)


async def simulate(specs: Sequence[JobSpec], start: datetime, end: datetime,
                   set_now: Callable[[datetime], None]) -> int:
    """Run the job table from ``start`` to ``end`` on a simulated clock; returns runs made.

    The same triggers APScheduler would use decide every run time; ``set_now`` moves the
    clock the job bodies read. Jobs run one at a time, as in a scheduler never late.
    """
    queue: list[tuple[datetime, int]] = []
    for index, spec in enumerate(specs):
        first = spec.first_run or spec.trigger.get_next_fire_time(None, start)
        if first is not None:
            heapq.heappush(queue, (first, index))
    runs = 0
    while queue and queue[0][0] <= end:
        moment, index = heapq.heappop(queue)
        set_now(moment)
        await specs[index].func()
        runs += 1
        following = specs[index].trigger.get_next_fire_time(moment, moment)
        if following is not None:
            heapq.heappush(queue, (following, index))
    return runs
