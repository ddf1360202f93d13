"""Service test helpers: a settable clock, a recording sender, an App on a real SQLite file,
and a runner for the real `topicscout run` subprocess, crawling either the replayed archive
(through the test-only crawler hook) or real sources over HTTP (the loopback source server)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from topicscout import service
from topicscout.config import parse_config
from topicscout.errors import DeliveryError
from topicscout.store import Store
from topicscout.types import utc_now

ROOT = Path(__file__).resolve().parents[2]
REPLAY = ROOT / "tests" / "data" / "service"  # weibo/baidu/zhihu, 2026-01-19 and 01-20 (+08:00)
BRAND = {"name": "小智科技", "keywords": ["AI", "大模型", "手机"],
         "related": ["机器人", "芯片", "DeepSeek"]}
SOURCES = [{"name": p, "kind": "hotlist", "platform": p, "every": "30m"}
           for p in ("weibo", "baidu", "zhihu")]


class Clock:
    """The injected clock: tests set it, nothing sleeps."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RecordingSender:
    """A DigestSender that records what it would send; chats in ``failing`` raise."""

    failing: set[int] = field(default_factory=set)
    sent: list[tuple[int, int | None]] = field(default_factory=list)  # (chat, digest id)
    alerts: list[str] = field(default_factory=list)
    to_chats: bool = True

    async def send_digest(self, chat_id: int, digest: service.Digest) -> list[int]:
        if chat_id in self.failing:
            raise DeliveryError(f"chat {chat_id}: Forbidden: bot was kicked")
        self.sent.append((chat_id, digest.digest_id))
        return [len(self.sent)]

    async def send_alert(self, text: str) -> None:
        self.alerts.append(text)


def make_config(tmp_path: Path, **digest: Any) -> Any:
    raw = {"brand": BRAND, "digest": {"time": "09:30", "timezone": "Asia/Shanghai", **digest},
           "telegram": {"chats": [-1001, -1002], "admins": [42]},
           "storage": {"path": str(tmp_path / "svc.sqlite"), "retention": "1d"},
           "sources": SOURCES}
    return parse_config(raw, tmp_path / "config.toml")


@pytest.fixture
def app_factory(tmp_path: Path) -> Iterator[Callable[..., service.App]]:
    """Opens Apps on one database file, as successive runs of the service would."""
    opened: list[service.App] = []

    def factory(**digest: Any) -> service.App:
        config = make_config(tmp_path, **digest)
        app = service.App(config=config, store=Store.open(config.db_path))
        opened.append(app)
        return app

    yield factory
    for app in opened:
        app.close()


# -- the real `topicscout run` as a subprocess ---------------------------------------------


def write_config(directory: Path, *, every: str = "5s", chats: tuple[int, ...] = (),
                 base_url: str | None = None, sources: str | None = None) -> Path:
    """A config for the subprocess; ``chats`` adds [telegram] (token from
    TOPICSCOUT_TEST_TOKEN, e.g. pointed at the fake Bot API with ``base_url``).

    ``sources``: TOML ([[sources]] and [crawl] tables) replacing the three hot lists the replay
    crawler serves, e.g. real sources at the loopback source server's URLs."""
    lines = ['[brand]', 'name = "小智科技"', 'keywords = ["AI", "大模型", "手机"]',
             '[digest]', 'time = "09:30"', 'timezone = "Asia/Shanghai"', 'grace = "3h"',
             '[storage]', 'path = "run.sqlite"', 'retention = "90d"']
    if chats:
        lines += ['[telegram]', 'token_env = "TOPICSCOUT_TEST_TOKEN"',
                  f"chats = [{', '.join(map(str, chats))}]", "admins = [42]"]
        if base_url:
            lines.append(f'base_url = "{base_url}"')
    if sources is None:
        for source in ("weibo", "baidu", "zhihu"):
            lines += ['[[sources]]', f'name = "{source}"', 'kind = "hotlist"',
                      f'platform = "{source}"', f'every = "{every}"']
    else:
        lines.append(sources)
    path = directory / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


REPLAY_ENV = ("TOPICSCOUT_TEST_CRAWLER", "TOPICSCOUT_REPLAY_DIR", "TOPICSCOUT_REPLAY_PAUSE")


class ServiceProcess:
    """`python -m topicscout run` with JSON logs captured to a file, at a chosen clock.

    ``replay=True`` crawls the archive in REPLAY through the test-only crawler hook (sources as
    `write_config` writes them by default); ``replay=False`` runs the real crawler on the
    configured sources, e.g. the loopback source server's URLs.
    """

    def __init__(self, config: Path, *, clock_at: datetime, env: dict[str, str] | None = None,
                 replay: bool = True, replay_pause: float = 0.0) -> None:
        self.config = config
        self.log_path = config.parent / f"run-{time.monotonic_ns()}.log"
        self.offset = clock_at - utc_now()  # service clock minus wall clock
        base = {k: v for k, v in os.environ.items() if k not in REPLAY_ENV}
        hook = {"TOPICSCOUT_TEST_CRAWLER": "tests.fakes.replay_crawler:crawl",
                "TOPICSCOUT_REPLAY_DIR": str(REPLAY),
                "TOPICSCOUT_REPLAY_PAUSE": str(replay_pause)} if replay else {}
        self.env = {**base, "PYTHONPATH": str(ROOT),
                    "TOPICSCOUT_CLOCK_OFFSET": f"{self.offset.total_seconds():.3f}",
                    **hook, **(env or {})}
        self._log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed in wait)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "topicscout", "run", "--config", str(config),
             "--log-format", "json"], cwd=config.parent, env=self.env,
            stdout=self._log, stderr=subprocess.STDOUT)

    def records(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"msg": line, "level": "raw"})
        return out

    def wait_for_log(self, predicate: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.records():
                if predicate(record["msg"]):
                    return str(record["msg"])
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"log line not seen; log:\n{self.log_path.read_text()[-3000:]}")

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the service's database from outside, as an operator would."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    """Started processes are killed at the end of the test, whatever happened."""
    started: list[ServiceProcess] = []
    yield started
    for proc in started:
        proc.kill()
