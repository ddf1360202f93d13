"""`topicscout run`: one asyncio process with the scheduler, the jobs and (with a token) the bot.

Lifecycle: validate config, open the store, start the bot if there is a token, resolve digests
left 'sending' by a crash, start the scheduler, print a short status, then wait for SIGINT /
SIGTERM. Stopping pauses the scheduler, lets jobs in flight finish (their transactions commit),
stops polling, closes the Telegram client and the database; all within STOP_TIMEOUT.

The crawler and the bot are wired here by name, and only here.

Test-only hooks (environment variables; each logs a warning when set, never use in production):
* ``TOPICSCOUT_CLOCK_OFFSET``: seconds added to the service clock (crawl times, digest slots),
  so an end-to-end test can start a minute before a digest of an archived day;
* ``TOPICSCOUT_TEST_CRAWLER``: ``module:function`` used instead of ``service.crawl``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from topicscout import service
from topicscout.errors import ConfigError, DeliveryError, TopicscoutError
from topicscout.jobs import (
    LOG_CHAT,
    Crawler,
    DigestSender,
    LogSender,
    Service,
    hours_minutes,
)
from topicscout.schedule import Runner, install, job_table, next_slot
from topicscout.timeutil import format_duration
from topicscout.types import utc_now
from topicscout.worker import Worker

log = logging.getLogger("topicscout.run")

STOP_TIMEOUT = 10.0  # seconds from SIGTERM to exit; systemd and docker wait 90 s / 10 s
DRAIN_TIMEOUT = 6.0  # of which jobs in flight may take this long; the rest is for shutdown
CLOCK_OFFSET_ENV = "TOPICSCOUT_CLOCK_OFFSET"
TEST_CRAWLER_ENV = "TOPICSCOUT_TEST_CRAWLER"


# -- logging ---------------------------------------------------------------------------------


class _Redacting(logging.Formatter):
    """Formats a record, then masks every secret registered with ``bot.redact.protect``.

    Libraries log request URLs, and the Bot API puts the token in the URL path. The record
    factory that ``protect`` installs already scrubs records as they are made; this last pass
    also covers records made some other way (a handler fed by hand, a library's own factory).
    """

    def __init__(self, as_json: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        from bot.redact import redact

        return redact(self._json(record) if self.as_json else super().format(record))

    def _json(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "msg": record.getMessage()}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str, level: str, secrets: list[str]) -> None:
    from bot.redact import protect

    for secret in secrets:
        protect(secret)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Redacting(as_json=log_format == "json"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Our jobs log one line per run; these would add a line per HTTP request / job start.
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# -- test hooks and wiring -------------------------------------------------------------------


def clock_offset() -> timedelta:
    raw = os.environ.get(CLOCK_OFFSET_ENV, "").strip()
    if not raw:
        return timedelta(0)
    try:
        offset = timedelta(seconds=float(raw))
    except ValueError as e:
        raise ConfigError([f"{CLOCK_OFFSET_ENV}: {raw!r} is not a number of seconds"]) from e
    log.warning("TEST HOOK %s=%s: the service clock is shifted by %s", CLOCK_OFFSET_ENV, raw,
                offset)
    return offset


def load_crawler() -> Crawler:
    """The crawler: ``service.crawl``, or the test hook's function."""
    hook = os.environ.get(TEST_CRAWLER_ENV, "").strip()
    if hook:
        module, _, name = hook.partition(":")
        log.warning("TEST HOOK %s=%s: not crawling the configured sources", TEST_CRAWLER_ENV,
                    hook)
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    return service.crawl


class TelegramSender:
    """Digests to chats through ``bot.send_digest``; alerts to each admin as a message."""

    to_chats = True

    def __init__(self, application: Any, app: service.App,
                 send: Callable[..., Any]) -> None:
        self.application, self.app, self._send = application, app, send

    async def send_digest(self, chat_id: int, digest: service.Digest) -> list[int]:
        # bot.send_digest raises DeliveryError itself, the token redacted.
        return list(await self._send(self.application.bot, self.app, chat_id, digest))

    async def send_alert(self, text: str) -> None:
        from telegram.error import TelegramError

        from bot.redact import redact
        log.warning("alert: %s", text)
        assert self.app.config.telegram is not None
        failed = []
        for admin in self.app.config.telegram.admins:
            try:
                await self.application.bot.send_message(admin, f"⚠️ topicscout: {text}")
            except TelegramError as e:
                failed.append(f"{admin} ({redact(str(e))})")
        if failed:
            raise DeliveryError(f"alert not delivered to admin(s) {', '.join(failed)}")


async def start_bot(app: service.App, worker: Worker) -> tuple[Any, DigestSender, str]:
    """(PTB Application or None, the sender, a word on why) — the bot only with a token."""
    telegram = app.config.telegram
    token = telegram.token() if telegram else None
    if telegram is None:
        return None, LogSender(), "off (no [telegram] section): digests go to the log"
    if token is None:
        return None, LogSender(), f"off ({telegram.token_env} is not set): digests go to the log"
    from telegram.error import TelegramError

    from bot.app import build_application, send_digest
    from bot.app import start_bot as start_polling
    from bot.redact import redact

    application = build_application(app, token, worker=worker)
    try:
        await start_polling(application)
    except (TopicscoutError, TelegramError) as e:
        await _stop_bot(application)
        raise TopicscoutError(f"telegram: {redact(str(e))}") from None
    return application, TelegramSender(application, app, send_digest), "on (long polling)"


async def _stop_bot(application: Any) -> None:
    if application is None:
        return
    from bot.app import stop_bot

    await stop_bot(application)


# -- the process -----------------------------------------------------------------------------


def log_status(jobs: Service, bot: str, now: datetime) -> None:
    config = jobs.config
    enabled = [s for s in config.sources if s.enabled]
    log.info("sources: %d enabled%s", len(enabled), "".join(
        f"{',' if i else ':'} {s.name} every {format_duration(s.every)}"
        for i, s in enumerate(enabled)) if enabled else " (nothing will be crawled)")
    log.info("bot: %s; digest to: %s", bot, ", ".join(
        "the log" if c == LOG_CHAT else str(c) for c in jobs.targets()))
    digest = config.digest
    slot = next_slot(now, digest.time, digest.tz)
    log.info("next digest: %s (in %s); late digests within %s; retention %s",
             slot.at.astimezone(digest.tz).isoformat(), hours_minutes(slot.at - now),
             format_duration(digest.grace), format_duration(config.storage.retention))


async def serve(app: service.App) -> None:
    """Run until SIGINT / SIGTERM; see the module docstring."""
    stop = asyncio.Event()  # set by SIGINT / SIGTERM, also while the bot is starting
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    offset = clock_offset()
    crawler = load_crawler()
    # One worker for the jobs and the bot: one tokenizer (jieba dictionary) in the process.
    worker = Worker(app)
    try:
        application, sender, bot = await start_bot(app, worker)
    except BaseException:
        worker.close()
        raise
    jobs = Service(app, crawler=crawler, sender=sender, clock=lambda: utc_now() + offset,
                   worker=worker)
    scheduler = AsyncIOScheduler(timezone=UTC)
    runner = Runner()
    try:
        await jobs.resolve_interrupted()
        install(scheduler, job_table(jobs, utc_now(), offset=offset), runner)
        scheduler.start()
        log_status(jobs, bot, jobs.clock())
        log.info("service started (pid %d)", os.getpid())
        await stop.wait()
        log.info("stopping: letting jobs in flight finish")
    finally:
        await _shutdown(scheduler, runner, application, jobs)


async def _shutdown(scheduler: AsyncIOScheduler, runner: Runner, application: Any,
                    jobs: Service) -> None:
    started = time.perf_counter()
    if scheduler.running:
        scheduler.pause()
    finished = await runner.drain(DRAIN_TIMEOUT)
    if scheduler.running:
        scheduler.shutdown(wait=False)
    await _stop_bot(application)
    await asyncio.get_running_loop().run_in_executor(None, jobs.close)
    log.info("stopped %s in %.1fs", "cleanly" if finished else "(a job was cancelled)",
             time.perf_counter() - started)


def run(app: service.App) -> None:
    """Blocking entry point for the CLI; closes the store on the way out."""
    try:
        asyncio.run(serve(app))
    finally:
        app.close()
