"""A stand-in for ``service.crawl`` that replays archived snapshot lines instead of fetching.

"Fetching" source S at ``now`` stores the archived lines of S's platform seen after the last
fetch and up to ``now`` (with their original ``seen_at``), then reports a FetchResult-shaped
outcome, exactly as the real crawler's contract says. Used by the service tests, by the
bot-less end-to-end tests through the ``TOPICSCOUT_TEST_CRAWLER`` hook (a slow, archive-sized
ingest to kill mid-transaction), and by the 30-day benchmark. The end-to-end test with the bot
(tests/service/test_run_with_bot.py) crawls real sources on the loopback source server instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from topicscout.snapshots import BadLine, read_snapshot_file
from topicscout.types import Item, utc_now

log = logging.getLogger("tests.fakes.replay_crawler")


@dataclass(frozen=True)
class ReplayResult:
    """Same fields as sources.model.FetchResult (the sources issue's type)."""

    source: str
    items: tuple[Item, ...]
    error: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    elapsed: float = 0.0
    status: int | None = 200


class _Stream:
    """One platform's archive, read lazily in time order (the files are sorted by seen_at)."""

    def __init__(self, paths: list[Path]) -> None:
        bad: list[BadLine] = []
        self._items: Iterator[Item] = (i for p in paths for i in read_snapshot_file(p, bad))
        self._next: Item | None = next(self._items, None)

    def skip_before(self, moment: datetime) -> None:
        while self._next is not None and self._next.seen_at < moment:
            self._next = next(self._items, None)

    def take_until(self, moment: datetime) -> list[Item]:
        taken = []
        while self._next is not None and self._next.seen_at <= moment:
            taken.append(self._next)
            self._next = next(self._items, None)
        return taken


class ReplayCrawler:
    """Replays ``<directory>/<platform>.jsonl[.gz]``; see the module docstring."""

    def __init__(self, directory: Path, *, batch: int = 200, pause: float = 0.0,
                 failing: set[str] | None = None) -> None:
        self.directory = directory
        self.batch = batch  # items per transaction
        self.pause = pause  # seconds between transactions: widens the "mid-crawl" window
        self.failing = failing if failing is not None else set()  # names that fail
        self._streams: dict[str, _Stream] = {}

    async def __call__(self, app: Any, *, now: datetime | None = None, only: str | None = None,
                       on_result: Callable[[Any], None] | None = None) -> list[ReplayResult]:
        now = now or utc_now()
        sources = [s for s in app.config.sources if s.enabled and only in (None, s.name)]
        results = []
        for source in sources:
            result = await self._fetch(app, source.name, source.platform or source.name, now)
            if on_result is not None:
                on_result(result)
            results.append(result)
        return results

    async def _fetch(self, app: Any, name: str, platform: str, now: datetime) -> ReplayResult:
        if name in self.failing:
            return ReplayResult(name, (), error="HTTP 503 from the replay (failing on purpose)",
                                status=503)
        due = self._stream(app, platform).take_until(now)
        log.info("replay crawl source=%s started: %d items", name, len(due))
        for start in range(0, len(due), self.batch):
            app.store.add_items(due[start:start + self.batch])
            if self.pause:
                await asyncio.sleep(self.pause)
        log.info("replay crawl source=%s finished", name)
        return ReplayResult(name, tuple(due))

    def _stream(self, app: Any, platform: str) -> _Stream:
        """The platform's archive positioned after what the database already holds.

        After a restart, lines seen at the newest stored moment may be half stored (a kill
        between two batches): they are taken again; storing is idempotent.
        """
        if platform not in self._streams:
            stream = _Stream(sorted(self.directory.glob(f"{platform}.jsonl*")))
            row = next(app.store.iter_rows(
                "SELECT max(s.seen_at) AS last FROM snapshots s JOIN items i ON i.id = s.item_id"
                " WHERE i.platform = ?", [platform]))
            stream.skip_before(datetime.fromtimestamp(row["last"] or 0, UTC))
            self._streams[platform] = stream
        return self._streams[platform]


_from_env: ReplayCrawler | None = None


async def crawl(app: Any, *, now: datetime | None = None, only: str | None = None,
                on_result: Callable[[Any], None] | None = None) -> list[ReplayResult]:
    """``service.crawl``-shaped entry point for ``TOPICSCOUT_TEST_CRAWLER``.

    Reads ``TOPICSCOUT_REPLAY_DIR`` (archived lines) and ``TOPICSCOUT_REPLAY_PAUSE`` (seconds).
    """
    global _from_env
    if _from_env is None:
        _from_env = ReplayCrawler(Path(os.environ["TOPICSCOUT_REPLAY_DIR"]), batch=100,
                                  pause=float(os.environ.get("TOPICSCOUT_REPLAY_PAUSE", "0")))
    return await _from_env(app, now=now, only=only, on_result=on_result)
