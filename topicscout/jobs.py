"""The service's job bodies: crawl a source, analyse, deliver the daily digest, prune.

Collaborators are injected so the same code runs under APScheduler in ``topicscout run``, under
the simulated clock of the benchmark, and in tests against a real SQLite file:

* ``clock``: returns "now" (aware UTC);
* ``crawler``: ``service.crawl`` or a function with its signature (the tests' replay crawler);
* ``sender``: a :class:`DigestSender` (Telegram via the bot, or :class:`LogSender`).

Store access: the event loop thread uses ``app.store`` (as the bot and the crawler do); the
CPU-heavy work (analysis, building the digest, pruning) runs in one :class:`Worker` thread that
owns its own connection, so the bot keeps answering while a digest is being built.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from topicscout import service
from topicscout.config import Config
from topicscout.errors import TopicscoutError
from topicscout.schedule import Health, Slot, is_within_grace, latest_slot, next_health
from topicscout.store import PruneCounts
from topicscout.types import Item
from topicscout.worker import Worker

log = logging.getLogger("topicscout.jobs")

Clock = Callable[[], datetime]

# The "chat" a digest is delivered to when there is no bot: the log (and the digests table).
LOG_CHAT = 0


class FetchOutcome(Protocol):
    """What the service reads of ``sources.model.FetchResult``."""

    source: str
    items: Sequence[Item]
    error: str | None


# ``service.crawl(app, *, now, only, on_result) -> CrawlReport``; the report itself is not read:
# per-source outcomes arrive through ``on_result``.
Crawler = Callable[..., Awaitable[Any]]


class DigestSender(Protocol):
    """Where digests and admin alerts go."""

    @property
    def to_chats(self) -> bool:
        """True when digests go to Telegram chats; False for the log-only sender."""
        ...

    async def send_digest(self, chat_id: int, digest: service.Digest) -> list[int]:
        """Deliver one digest to one chat; raise a TopicscoutError when it was not delivered."""
        ...

    async def send_alert(self, text: str) -> None:
        """Tell the admins, once; raise a TopicscoutError when that failed."""
        ...


class LogSender:
    """No Telegram: the digest goes to the log (and, as every daily digest, to the database)."""

    to_chats = False

    async def send_digest(self, chat_id: int, digest: service.Digest) -> list[int]:
        log.info("digest as_of=%s id=%s ideas=%d new_topics=%d", digest.as_of.isoformat(),
                 digest.digest_id, len(digest.ideas), digest.new_topics)
        for position, idea in enumerate(digest.ideas, start=1):
            topic = idea.topic
            log.info("digest #%d [%s] %s (%s; %s)", position, idea.angle, topic.title,
                     ", ".join(topic.platforms), topic.why)
        return []

    async def send_alert(self, text: str) -> None:
        log.warning("alert: %s", text)


@dataclass(frozen=True)
class CrawlRun:
    """One crawl job's outcome, for the log line and the tests."""

    source: str
    fetched: int  # items in successful fetches
    errors: int  # failed fetches
    seconds: float


class Service:
    """The job bodies; see the module docstring for what is injected."""

    def __init__(self, app: service.App, *, crawler: Crawler, sender: DigestSender,
                 clock: Clock, worker: Worker | None = None) -> None:
        self.app = app
        self.crawler = crawler
        self.sender = sender
        self.clock = clock
        self.worker = worker or Worker(app)  # `run` shares one with the bot
        self._to_log: DigestSender = LogSender()
        self.new_data = False  # set by a crawl that fetched items; cleared by analysis

    @property
    def config(self) -> Config:
        return self.app.config

    def close(self) -> None:
        self.worker.close()

    # -- crawl ------------------------------------------------------------------------------

    async def crawl_source(self, name: str) -> CrawlRun:
        """Fetch one source through the injected crawler; alert on failing / recovered."""
        started = time.perf_counter()
        outcomes: list[Any] = []
        if self._backing_off(name):
            return CrawlRun(name, 0, 0, 0.0)
        await self.crawler(self.app, now=self.clock(), only=name, on_result=outcomes.append)
        for outcome in outcomes:
            await self._track_health(outcome)
        fetched = sum(len(o.items) for o in outcomes if o.error is None)
        run = CrawlRun(name, fetched, sum(1 for o in outcomes if o.error is not None),
                       time.perf_counter() - started)
        self.new_data = self.new_data or fetched > 0
        log.info("crawl source=%s fetched=%d errors=%d duration=%.2fs",
                 name, run.fetched, run.errors, run.seconds)
        for outcome in outcomes:
            if outcome.error is not None:  # the one line that says what is wrong, in the log
                log.warning("crawl source=%s failed: %s", outcome.source, outcome.error)
        return run

    def _backing_off(self, name: str) -> bool:
        """A failing source waits out the crawler's backoff (its next_due) instead of being
        hit at every tick; a healthy one is fetched at every tick, so a slightly early,
        jittered tick never skips an interval."""
        state = self.app.store.source_states().get(name)
        if state is None or state.consecutive_failures == 0 or state.next_due is None:
            return False
        if state.next_due <= self.clock():
            return False
        log.info("crawl source=%s skipped: backing off after %d failures until %s", name,
                 state.consecutive_failures, state.next_due.isoformat())
        return True

    async def _track_health(self, outcome: FetchOutcome) -> None:
        store = self.app.store
        failures, alerted = store.source_alert(outcome.source)
        health, change = next_health(Health(failures, alerted), outcome.error is not None)
        if health != Health(failures, alerted) or change:
            store.set_source_alert(outcome.source, health.failures, health.alerted,
                                   outcome.error, self.clock())
        if change == "failing":
            # Not "failing": `topicscout sources` keeps that word for 5 failures in a row.
            await self.alert(f"source {outcome.source} failed {health.failures} fetches in a "
                             f"row: {outcome.error}")
        elif change == "recovered":
            await self.alert(f"source {outcome.source} recovered")

    # -- analysis ---------------------------------------------------------------------------

    async def analyze(self) -> int | None:
        """Analyse when a crawl brought new data since the last run; returns topics found."""
        if not self.new_data:
            return None
        self.new_data = False
        started, now = time.perf_counter(), self.clock()
        analysis = await self.worker.run(lambda app: service.analyze_at(app, now))
        top = analysis.topics[0].title if analysis.topics else "-"
        log.info("analysis topics=%d ideas=%d top=%s duration=%.2fs", len(analysis.topics),
                 len(analysis.ideas), top, time.perf_counter() - started)
        return len(analysis.topics)

    # -- daily digest -----------------------------------------------------------------------

    def targets(self) -> list[int]:
        """Configured chats minus those that /unsubscribe'd; the log when there is no bot or
        no chat wants the digest (it is still made and stored, so `digest` can show it)."""
        if not self.sender.to_chats or self.config.telegram is None:
            return [LOG_CHAT]
        return service.subscribed_chats(self.app) or [LOG_CHAT]

    async def digest_due(self) -> Slot:
        """The digest job: deliver the latest slot if still owed (on time, or late within grace)."""
        digest = self.config.digest
        now = self.clock()
        slot = latest_slot(now, digest.time, digest.tz)
        if is_within_grace(slot, now, digest.grace):
            await self.deliver(slot)
        else:
            self._skip_missed(slot, now)
        return slot

    def _skip_missed(self, slot: Slot, now: datetime) -> None:
        """Record (once) and log a slot that passed beyond the grace period unsent.

        On a first start (no delivery ever recorded) nothing was owed yet: a new install
        started in the afternoon has not "missed" this morning's digest.
        """
        if not self.app.store.has_deliveries():
            return
        digest = self.config.digest
        late, grace = hours_minutes(now - slot.at), hours_minutes(digest.grace)
        for chat in self.targets():
            if self.app.store.record_missed(chat, slot.key, now,
                                            f"not running at digest time: {late} late"):
                log.warning("digest day=%s chat=%d skipped: its time %s passed %s ago, beyond "
                            "the %s grace (the service was not running)", slot.key, chat,
                            slot.at.astimezone(digest.tz).isoformat(), late, grace)

    async def deliver(self, slot: Slot) -> dict[int, str]:
        """Send the slot's digest to every target without a delivery row; returns chat -> status.

        Exactly once: the (chat, day) row is committed as 'sending' before the send and set to
        'sent' / 'failed' after it; a chat with any row is never sent that day's digest again.
        """
        started = time.perf_counter()
        store = self.app.store
        pending = [c for c in self.targets() if store.delivery(c, slot.key) is None]
        if not pending:
            log.info("digest day=%s: already delivered or recorded for every chat", slot.key)
            return {}
        digest = await self.worker.run(lambda app: daily_digest(app, slot))
        statuses: dict[int, str] = {}
        for chat in pending:
            if store.claim_delivery(chat, slot.key, digest.digest_id, self.clock()):
                statuses[chat] = await self._send(chat, slot, digest)
        failed = [c for c, s in statuses.items() if s != "sent"]
        log.info("digest day=%s id=%s ideas=%d sent=%d failed=%d duration=%.2fs", slot.key,
                 digest.digest_id, len(digest.ideas), len(statuses) - len(failed), len(failed),
                 time.perf_counter() - started)
        if failed:
            await self.alert(f"the digest of {slot.key} could not be sent to chat(s) "
                             f"{', '.join(map(str, failed))}; see the log")
        return statuses

    async def _send(self, chat: int, slot: Slot, digest: service.Digest) -> str:
        sender = self._to_log if chat == LOG_CHAT else self.sender
        try:
            await sender.send_digest(chat, digest)
        except TopicscoutError as e:
            self.app.store.finish_delivery(chat, slot.key, "failed", self.clock(), str(e))
            log.error("digest day=%s chat=%d failed: %s", slot.key, chat, e)
            return "failed"
        self.app.store.finish_delivery(chat, slot.key, "sent", self.clock())
        return "sent"

    async def resolve_interrupted(self) -> list[dict[str, Any]]:
        """At start-up: 'sending' rows left by a crash become 'failed', never re-sent.

        The crash came between "about to send" and "sent": some or all of the digest's messages
        may have reached the chat. Sending again risks the duplicate this table exists to
        prevent, so the choice is at-most-once for that chat and day, and one admin alert.
        """
        rows = self.app.store.deliveries_with_status("sending")
        for row in rows:
            self.app.store.finish_delivery(
                row["chat_id"], row["day"], "failed", self.clock(),
                "interrupted while sending: may have been delivered; not sent again")
            log.warning("digest day=%s chat=%d was interrupted by a crash while sending: "
                        "not sent again", row["day"], row["chat_id"])
        if rows:
            days = sorted({r["day"] for r in rows})
            await self.alert(f"the service stopped while sending the digest of "
                             f"{', '.join(days)}; it may not have arrived in every chat")
        return rows

    # -- retention --------------------------------------------------------------------------

    async def prune(self) -> PruneCounts:
        started, now = time.perf_counter(), self.clock()
        before = now - self.config.storage.retention
        counts = await self.worker.run(lambda app: _prune(app, before))
        log.info("retention before=%s snapshots=%d items=%d search_rows=%d title_tokens=%d"
                 " duration=%.2fs", before.isoformat(), counts.snapshots, counts.items,
                 counts.search_rows, counts.title_tokens, time.perf_counter() - started)
        return counts

    # -- alerts -----------------------------------------------------------------------------

    async def alert(self, text: str) -> None:
        """One message to the admins; a failure to alert is logged, never raised into a job."""
        try:
            await self.sender.send_alert(text)
        except TopicscoutError as e:
            log.error("alert could not be sent (%s): %s", e, text)


def daily_digest(app: service.App, slot: Slot) -> service.Digest:
    """The slot's digest: made and stored once (kind 'daily'), reloaded after a restart."""
    existing = app.store.daily_digest_id(slot.at)
    if existing is not None:
        return service.load_digest(app, existing)
    digest = service.make_digest(app, slot.at, kind="daily")
    if digest.digest_id is not None:
        app.store.set_new_topics(digest.digest_id, digest.new_topics)
    return digest


def hours_minutes(delta: timedelta) -> str:
    """``3h05m``: how late a digest is, how long until the next one."""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _prune(app: service.App, before: datetime) -> PruneCounts:
    counts = app.store.prune(before)
    app.store.checkpoint()
    return counts
