"""Reading untrusted JSON: decode, walk dotted paths, coerce numbers, and say clearly what was
expected where (``expected data.realtime list, got null``) when an upstream changes its format.

Shared by the hot-list adapters, the aggregators and the generic ``json`` kind.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from topicscout.errors import SourceError

_MISSING = object()


def describe(value: Any) -> str:
    """A value's JSON type in words, for error messages (never the value itself: it may be big)."""
    if value is _MISSING:
        return "nothing (missing)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _markup_kind(head: bytes) -> str | None:
    """'an HTML page' / 'XML or other markup' when the body is markup, else None."""
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not lowered.startswith(b"<"):
        return None
    return "an HTML page" if b"<html" in lowered or b"<!doctype html" in lowered \
        else "XML or other markup"


def load_json(body: bytes, content_type: str | None = None) -> Any:
    """Decode a JSON body; an HTML page or broken JSON becomes one clear SourceError."""
    if not body.strip():
        raise SourceError("expected JSON, got an empty body")
    markup = _markup_kind(body[:1024])
    if markup:
        raise SourceError(f"expected JSON, got {markup} ({content_type or 'no Content-Type'})")
    try:
        return json.loads(body)
    except UnicodeDecodeError as e:
        raise SourceError(f"expected JSON, got undecodable bytes at offset {e.start}") from None
    except json.JSONDecodeError as e:
        raise SourceError(f"expected JSON, got invalid JSON ({e.msg} at line {e.lineno} "
                          f"column {e.colno})") from None
    except RecursionError:
        raise SourceError("expected JSON, got a document nested too deeply") from None


def split_path(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.split(".") if p) if path else ()


def get_path(data: Any, path: str | tuple[str, ...]) -> Any:
    """The value at a dotted path (``data.cards.0.content``); ``_MISSING`` when absent."""
    parts = split_path(path) if isinstance(path, str) else path
    value = data
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else _MISSING
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def lookup(data: Any, path: str) -> Any:
    """Like :func:`get_path` but None when absent, for optional fields."""
    value = get_path(data, path)
    return None if value is _MISSING else value


_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(亿|万|[wWkKmM])?")
_UNITS = {"亿": 100_000_000, "万": 10_000, "w": 10_000, "W": 10_000, "k": 1_000, "K": 1_000,
          "m": 1_000_000, "M": 1_000_000, None: 1}
_MAX_HEAT = 10**15  # beyond any real heat figure; also keeps SQLite INTEGER happy


def parse_heat(value: Any) -> int | None:
    """A heat figure as an integer: 7809518, "7809518", "1854 万热度" -> 18540000, "1.2亿"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int) and not 0 <= value <= _MAX_HEAT:
        return None  # also keeps float() from overflowing on a 400-digit integer
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        match = _NUMBER.search(value.replace(",", ""))
        if not match:
            return None
        number = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        return None
    if number != number or number < 0 or number > _MAX_HEAT:  # NaN, negative, absurd
        return None
    return round(number)


def parse_rank(value: Any) -> int | None:
    """A 1-based rank from an int or digit string; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 < value < 100_000:
        return value
    if isinstance(value, str) and value.strip().isdigit() and 0 < int(value) < 100_000:
        return int(value)
    return None


# [^<>]: a tag never spans another "<", which also keeps the scan linear on "<<<<…" input.
_TAGS = re.compile(r"<[^<>]*>")
_SPACES = re.compile(r"\s+")
TITLE_INPUT_CHARS = 2000  # a title longer than this is junk; cut before any regex sees it


def clean_title(value: Any) -> str:
    """Display text: tags stripped, entities decoded, whitespace collapsed; '' when unusable."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return ""
    text = html.unescape(_TAGS.sub(" ", str(value)[:TITLE_INPUT_CHARS]))
    return _SPACES.sub(" ", text).strip()


def text_or_none(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
