"""Many sources at once -> one FetchResult per source.

A broken source yields a FetchResult with its error line; it never stops the others. Only our
own SourceError is caught: a bug (TypeError, KeyError …) propagates and fails the crawl loudly,
instead of being recorded as an upstream problem and retried forever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import httpx

from sources.http import Fetcher, FetchError, HttpSettings
from sources.kinds import kind_of
from sources.model import FetchResult, Parsed, Parser, SourceSpec, Validators
from topicscout.errors import SourceError
from topicscout.types import Item


@dataclass(frozen=True)
class Job:
    """One source to fetch now, with what we remember of its last good response."""

    source: SourceSpec
    validators: Validators = field(default_factory=Validators)


async def fetch_source(fetcher: Fetcher, job: Job, now: datetime) -> FetchResult:
    """Fetch and parse one source; expected failures come back as FetchResult.error."""
    name = job.source.name
    status: int | None = None
    retry_after: float | None = None
    attempts, seconds = 0, 0.0
    try:
        kind = kind_of(job.source)
        response = await fetcher.fetch(kind.request(job.source, now), job.validators)
        status, attempts, seconds = response.status, response.attempts, response.seconds
        fetched = FetchResult(source=name, etag=response.etag, status=status, elapsed=seconds,
                              last_modified=response.last_modified, attempts=attempts)
        if response.not_modified:
            return replace(fetched, not_modified=True)
        ctx = Parsed(source=name, seen_at=now, url=response.url,
                     content_type=response.content_type)
        # Parsing is CPU work (feedparser ~11 ms a feed): keep the event loop free for I/O.
        started = time.perf_counter()
        items = await _parse(kind.parser(job.source), response.body, ctx,
                             fetcher.settings.deadline)
        seconds += time.perf_counter() - started
        return replace(fetched, items=tuple(items), elapsed=seconds)
    except SourceError as e:
        if isinstance(e, FetchError):
            status, attempts, seconds = e.status, e.attempts, e.seconds
            retry_after = e.retry_after
        return FetchResult(source=name, error=_one_line(str(e)), status=status,
                           attempts=attempts, elapsed=seconds, retry_after=retry_after)


async def crawl(jobs: Sequence[Job], now: datetime, *, settings: HttpSettings | None = None,
                on_result: Callable[[FetchResult], None] | None = None,
                transport: httpx.AsyncBaseTransport | None = None) -> list[FetchResult]:
    """Fetch every job concurrently (within the settings' limits); results in finishing order.

    ``on_result`` is called on the event loop as each source finishes, so a caller can store
    results as they arrive (and show progress) instead of waiting for the slowest source.
    """
    results: list[FetchResult] = []

    async def run(job: Job) -> None:
        result = await fetch_source(fetcher, job, now)
        results.append(result)
        if on_result is not None:
            on_result(result)

    async with Fetcher(settings, transport=transport) as fetcher, asyncio.TaskGroup() as tasks:
        for job in jobs:
            tasks.create_task(run(job))
    return results


async def _parse(parser: Parser, body: bytes, ctx: Parsed, limit: float) -> list[Item]:
    """Run a parser in a worker thread, giving up on it (not on the crawl) after ``limit`` s.

    Bodies are size-capped and feeds entry-capped, so this is a safety net: a thread cannot be
    stopped, but the crawl can stop waiting for it."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(parser, body, ctx), limit)
    except TimeoutError:
        raise SourceError(f"parsing the response took longer than {limit:g} s; "
                          "gave up") from None


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line[:300] + ("…" if len(line) > 300 else "")
