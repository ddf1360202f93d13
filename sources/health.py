"""When a source is due again and how healthy it is: pure decisions over its failure count.

A failing upstream is retried less and less often (so we stop hammering it and filling the log)
but never dropped: after FAILING_AFTER failures in a row it is reported as failing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

BACKOFF_AFTER = 2  # failures in a row before the interval starts to stretch
MAX_BACKOFF_FACTOR = 16  # at most 16x the configured interval (15m -> 4h)
MAX_INTERVAL = timedelta(hours=24)  # never wait longer than a day (unless `every` says so)
FAILING_AFTER = 5  # failures in a row after which a source is reported as failing


def backoff_factor(failures: int) -> int:
    """1 while healthy; 2, 4, 8, 16 from the BACKOFF_AFTER-th failure in a row."""
    if failures < BACKOFF_AFTER:
        return 1
    return min(2 ** (failures - BACKOFF_AFTER + 1), MAX_BACKOFF_FACTOR)


def next_due(now: datetime, every: timedelta, failures: int,
             retry_after: float | None = None) -> datetime:
    """When a source that just finished (with ``failures`` in a row, 0 if ok) is due again;
    never before the server's Retry-After (capped at MAX_INTERVAL)."""
    interval = min(every * backoff_factor(failures), max(every, MAX_INTERVAL))
    if retry_after:
        interval = max(interval, min(timedelta(seconds=retry_after), MAX_INTERVAL))
    return now + interval


def is_due(next_at: datetime | None, now: datetime) -> bool:
    return next_at is None or next_at <= now


def health_status(*, enabled: bool, failures: int, ever_succeeded: bool) -> str:
    """One word for the health table."""
    if not enabled:
        return "disabled"
    if failures >= FAILING_AFTER:
        return "failing"
    if failures >= BACKOFF_AFTER:
        return "backing off"
    if failures:
        return "error"
    return "ok" if ever_succeeded else "pending"
