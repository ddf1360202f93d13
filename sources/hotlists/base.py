"""Table-driven hot-list extraction: a platform is data (endpoint + where its lists and fields
are), and one function turns any such description plus a JSON document into Items.

The platform modules next to this file only *describe* their API; the generic ``json`` source
kind builds the same description from config, so users can add a platform without code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sources.model import Parsed
from sources.shape import (
    clean_title,
    describe,
    get_path,
    load_json,
    lookup,
    parse_heat,
    parse_rank,
    text_or_none,
)
from topicscout.errors import SourceError
from topicscout.types import Item

# A field is a dotted path into one entry, or a function of the entry.
Field = str | Callable[[dict[str, Any]], Any] | None


@dataclass(frozen=True)
class ListSpec:
    """Where one list sits in a response and how to read an entry of it."""

    path: str  # dotted path from the document root to the list ("data.realtime")
    title: Field  # entry -> display title
    url: Field = None  # entry -> link; a str with "{…}" is a template of entry paths
    heat: Field = None  # entry -> heat (number or text like "1854 万热度")
    rank: Field = None  # entry -> 1-based rank; None: the entry's position in the list
    pinned: bool = False  # every entry of this list is a pinned slot (no organic rank)
    skip: Callable[[dict[str, Any]], bool] | None = None  # drop entries (ads)
    optional: bool = False  # the list may be absent or null (pinned extras)


@dataclass(frozen=True)
class Platform:
    """One platform's hot-list API, described as data."""

    name: str  # the `platform = "…"` value in config
    url: str  # default endpoint (a source's `url` overrides it, e.g. for a proxy)
    lists: tuple[ListSpec, ...]
    method: str = "GET"
    body: Callable[[datetime], Any] | None = None  # JSON body for POST APIs, built per request
    headers: tuple[tuple[str, str], ...] = ()  # headers the platform insists on (referer)
    check: Callable[[Any], str | None] | None = None  # API-level error in a 200 response


def read_field(entry: dict[str, Any], field: Field) -> Any:
    if field is None:
        return None
    if callable(field):
        return field(entry)
    if "{" in field:
        return fill_template(field, entry)
    return lookup(entry, field)


def fill_template(template: str, entry: dict[str, Any]) -> str | None:
    """``https://36kr.com/p/{itemId}`` with each ``{path}`` URL-quoted; None if one is missing."""
    out: list[str] = []
    rest = template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        key, closed, rest = tail.partition("}")
        if not closed:
            return None
        value = lookup(entry, key.strip())
        if value is None or isinstance(value, dict | list) or value == "":
            return None
        out += [head, quote(str(value), safe="")]
    out.append(rest)
    return "".join(out)


def first_text(*fields: str) -> Callable[[dict[str, Any]], str | None]:
    """A field reading the first non-empty text among several paths (layouts change)."""
    def read(entry: dict[str, Any]) -> str | None:
        for path in fields:
            text = text_or_none(lookup(entry, path))
            if text:
                return text
        return None
    return read


def search_url(base: str, field: str, wrap: str = "{}") -> Callable[[dict[str, Any]], str | None]:
    """A search-page link for a hot word: ``base`` + the quoted word (``wrap`` adds #…#)."""
    def read(entry: dict[str, Any]) -> str | None:
        word = text_or_none(lookup(entry, field))
        return base + quote(wrap.format(word.strip("#")), safe="") if word else None
    return read


def _entry_item(entry: Any, spec: ListSpec, ctx: Parsed) -> Item | None:
    if not isinstance(entry, dict) or (spec.skip is not None and spec.skip(entry)):
        return None
    title = clean_title(read_field(entry, spec.title))
    if not title:
        return None
    url = text_or_none(read_field(entry, spec.url))
    rank = parse_rank(read_field(entry, spec.rank)) if spec.rank and not spec.pinned else None
    return Item(platform=ctx.source, title=title[:500], seen_at=ctx.seen_at,
                url=url if url and url.startswith(("http://", "https://")) else None,
                rank=rank, heat=parse_heat(read_field(entry, spec.heat)), pinned=spec.pinned)


MAX_ENTRIES = 500  # entries read per list (hot lists carry 10-100; more is abuse or a bug)


def _list_at(data: Any, spec: ListSpec) -> list[Any]:
    value = get_path(data, spec.path)
    if isinstance(value, list):
        return value[:MAX_ENTRIES]
    if spec.optional:
        return [value] if isinstance(value, dict) else []
    raise SourceError(f"expected {spec.path} list, got {describe(value)}")


def extract(data: Any, lists: tuple[ListSpec, ...], ctx: Parsed) -> list[Item]:
    """Items of every list in ``lists``; a required list that is missing is a SourceError, and
    so is a non-empty list none of whose entries has a title (the format changed)."""
    items: list[Item] = []
    for spec in lists:
        entries = _list_at(data, spec)
        found = [item for item in (_entry_item(e, spec, ctx) for e in entries) if item]
        if entries and not found and not spec.optional:
            raise SourceError(f"{spec.path} has {len(entries)} entries but none has a title "
                              f"at {spec.title if isinstance(spec.title, str) else 'its title'}")
        # Ranks count organic entries only, so dropped ads do not leave holes.
        organic = 0
        for item in found:
            if not spec.pinned and spec.rank is None:
                organic += 1
                item = replace(item, rank=organic)
            items.append(item)
    return items


def parse_platform(platform: Platform, body: bytes, ctx: Parsed) -> list[Item]:
    """Bytes of one response of ``platform`` -> Items, or SourceError naming what was wrong."""
    data = load_json(body, ctx.content_type)
    if platform.check is not None:
        problem = platform.check(data)
        if problem:
            raise SourceError(problem)
    return extract(data, platform.lists, ctx)


def api_status(path: str, ok: tuple[Any, ...], message: str = "message") -> Callable[
        [Any], str | None]:
    """A check for APIs that report errors in a 200 response (``{"code": -352, ...}``)."""
    def check(data: Any) -> str | None:
        if not isinstance(data, dict):
            return f"expected a JSON object, got {describe(data)}"
        value = lookup(data, path)
        if value in ok:
            return None
        detail = text_or_none(lookup(data, message))
        shown = repr(value) if isinstance(value, str | int | float) else describe(value)
        return f"API error: {path}={shown}" + (f" ({detail[:120]})" if detail else "")
    return check
