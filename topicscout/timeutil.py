"""Parsing of the few time notations users type: durations ("15m"), ISO moments, "HH:MM"."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from topicscout.errors import InputError
from topicscout.types import to_utc

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """ "90s", "15m", "24h", "7d", "2w" -> timedelta; anything else raises ValueError."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration like 15m, 24h or 7d")
    value = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if value <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return timedelta(seconds=value)


def parse_clock(text: str) -> time:
    """ "09:30" -> time(9, 30); a 24-hour clock, minutes required."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{text!r} is not a time like 09:30")
    return time(int(match.group(1)), int(match.group(2)))


def parse_moment(text: str, *, what: str = "time") -> datetime:
    """An ISO 8601 moment with its offset, as aware UTC. Zone-less input is refused, not guessed."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise InputError(f"{what}: {text!r} is not an ISO 8601 time "
                         "like 2026-02-01T09:30:00+08:00") from e
    if moment.tzinfo is None:
        raise InputError(f"{what}: {text!r} has no UTC offset (add +08:00 or Z)")
    return to_utc(moment)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
