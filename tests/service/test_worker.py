"""The worker thread that `topicscout run` shares between the scheduler's jobs and the bot."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot import redact
from bot.app import build_application
from topicscout import service
from topicscout.config import Config
from topicscout.jobs import LogSender, Service
from topicscout.store import Store
from topicscout.types import utc_now
from topicscout.worker import Worker


def test_jobs_and_bot_can_share_one_worker_and_close_it_twice(tmp_path: Path) -> None:
    app = service.App(config=Config(), store=Store.open(tmp_path / "w.sqlite"))
    worker = Worker(app)
    jobs = Service(app, crawler=service.crawl, sender=LogSender(), clock=utc_now, worker=worker)
    application = build_application(app, "123456:shared-worker-test-token", worker=worker)
    redact.forget_all()
    assert jobs.worker is worker
    assert application.bot_data["topicscout"].worker is worker
    worker_app = asyncio.run(worker.run(lambda a: a))
    assert asyncio.run(worker.run(lambda a: a)) is worker_app  # one App: one tokenizer
    assert worker_app is not app and worker_app.store.path == app.store.path
    worker.close()  # the bot's stop closes it ...
    jobs.close()  # ... and then the service's: nothing left to do
    app.close()
