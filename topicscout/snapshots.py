"""Snapshot lines (JSON Lines, DESIGN.md) <-> Items, with bad lines reported, never fatal."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from topicscout.errors import InputError
from topicscout.types import Item, to_utc


@dataclass(frozen=True)
class BadLine:
    """A snapshot line that could not be used, with where it was and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def _optional_int(record: dict[str, Any], key: str) -> int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number or null, got {value!r}")
    return int(value)


def parse_line(text: str) -> Item:
    """One snapshot line -> Item; raises ValueError with a short reason."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg})") from e
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    platform, title, seen = record.get("platform"), record.get("title"), record.get("seen_at")
    if not isinstance(platform, str) or not platform.strip():
        raise ValueError("missing platform")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("missing title")
    if not isinstance(seen, str):
        raise ValueError("missing seen_at")
    try:
        seen_at = datetime.fromisoformat(seen.replace("Z", "+00:00"))
        seen_at = to_utc(seen_at)
    except ValueError as e:
        raise ValueError(f"seen_at {seen!r}: {e}") from e
    url = record.get("url")
    rank = _optional_int(record, "rank")
    return Item(
        platform=platform.strip(), title=title.strip(), seen_at=seen_at,
        url=url if isinstance(url, str) and url else None,
        rank=rank if rank else None,  # rank 0 marks a pinned, non-organic slot (baidu)
        heat=_optional_int(record, "heat"),
        pinned=rank == 0 or bool(record.get("pinned")),
    )


def _open_text(path: Path) -> io.TextIOBase:
    try:
        if path.suffix == ".gz":
            return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig")
        return open(path, encoding="utf-8-sig")
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror or e}") from e


def read_snapshot_file(path: Path, bad: list[BadLine]) -> Iterator[Item]:
    """Yield the Items of one file (plain or .gz); append unusable lines to ``bad``."""
    with _open_text(path) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield parse_line(line)
                except ValueError as e:
                    bad.append(BadLine(str(path), number, str(e)))
        except (OSError, EOFError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: unreadable: {e}") from e


def item_to_record(item: Item, tz: Any = None) -> dict[str, Any]:
    """The snapshot-line shape of an Item (used by --json outputs as evidence)."""
    seen = item.seen_at.astimezone(tz) if tz else item.seen_at
    return {"platform": item.platform, "title": item.title, "url": item.url,
            "rank": item.rank, "heat": item.heat, "seen_at": seen.isoformat()}
