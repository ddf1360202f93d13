"""A stand-in for ``service.crawl`` that replays archived snapshot lines instead of fetching.

"Fetching" source S at ``now`` stores the archived lines of S's platform seen after the last
fetch and up to ``now`` (with their original ``seen_at``), then reports a FetchResult-shaped
outcome, exactly as the real crawler's contract says. Used by the service tests, by the
end-to-end test through the ``TOPICSCOUT_TEST_CRAWLER`` hook, and by the 30-day benchmark.
Once the real crawler and the loopback source server are merged, the e2e can swap this for them.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import os
from collections.abc import Callable
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


class ReplayCrawler:
    """Replays ``<directory>/<platform>.jsonl[.gz]``; see the module docstring."""

    def __init__(self, directory: Path, *, batch: int = 200, pause: float = 0.0,
                 failing: set[str] | None = None) -> None:
        self.directory = directory
        self.batch = batch  # items per transaction
        self.pause = pause  # seconds between transactions: widens the "mid-crawl" window
        self.failing = failing if failing is not None else set()  # names that fail
        self._lines: dict[str, tuple[list[datetime], list[Item]]] = {}
        self._last: dict[str, datetime] = {}

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
        times, items = self._platform(platform)
        since, resumed = self._since(app, platform)
        # After a restart, lines seen at the newest stored moment may be half stored (a kill
        # between two batches): take them again; storing is idempotent.
        first = (bisect.bisect_left if resumed else bisect.bisect_right)(times, since)
        due = items[first:bisect.bisect_right(times, now)]
        log.info("replay crawl source=%s started: %d items", name, len(due))
        for start in range(0, len(due), self.batch):
            app.store.add_items(due[start:start + self.batch])
            if self.pause:
                await asyncio.sleep(self.pause)
        self._last[platform] = max(since, now)
        log.info("replay crawl source=%s finished", name)
        return ReplayResult(name, tuple(due))

    def _since(self, app: Any, platform: str) -> tuple[datetime, bool]:
        """Where the last fetch stopped, and whether that was read back from the database
        (the first fetch after a start: the newest stored observation)."""
        if platform in self._last:
            return self._last[platform], False
        row = next(app.store.iter_rows(
            "SELECT max(s.seen_at) AS last FROM snapshots s JOIN items i ON i.id = s.item_id"
            " WHERE i.platform = ?", [platform]))
        return datetime.fromtimestamp(row["last"] or 0, UTC), True

    def _platform(self, platform: str) -> tuple[list[datetime], list[Item]]:
        if platform not in self._lines:
            bad: list[BadLine] = []
            paths = sorted(self.directory.glob(f"{platform}.jsonl*"))
            items = sorted((i for p in paths for i in read_snapshot_file(p, bad)),
                           key=lambda i: i.seen_at)
            self._lines[platform] = ([i.seen_at for i in items], items)
        return self._lines[platform]


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
