"""The types at the sources boundary: what a source is asked for, and what one fetch produced.

``sources`` never imports the app's config: anything with the attributes of :class:`SourceSpec`
(``topicscout.config.SourceConfig`` is one) can be crawled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from topicscout.types import Item


class SourceSpec(Protocol):
    """What the crawler needs to know about one configured source."""

    @property
    def name(self) -> str: ...  # unique; also the platform label of its items
    @property
    def kind(self) -> str: ...  # "rss", "hotlist", "newsnow", "dailyhot", "json"
    @property
    def url(self) -> str | None: ...  # feed / API URL, or an aggregator's base URL
    @property
    def platform(self) -> str | None: ...  # which list, for hotlist / newsnow / dailyhot
    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...  # extra request headers

    def option(self, key: str, default: Any = None) -> Any: ...  # kind-specific setting


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last good response said about itself, for a conditional GET."""

    etag: str | None = None  # sent back as If-None-Match
    last_modified: str | None = None  # sent back as If-Modified-Since


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request an adapter wants made (the fetcher adds UA, validators, retries)."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()  # per-source extras (cookie, referer)
    json_body: Any = None  # sent as JSON for POST APIs (36kr's gateway)

    @property
    def is_conditional(self) -> bool:
        """Only plain GETs may be answered with 304."""
        return self.method == "GET" and self.json_body is None


@dataclass(frozen=True, slots=True)
class Response:
    """The bytes of one successful response (or a 304), before any parsing."""

    url: str  # final URL after redirects (base for relative links)
    status: int  # 200, 304, …
    body: bytes  # empty for a 304
    content_type: str | None  # the Content-Type header as sent
    etag: str | None  # validators to store for the next conditional GET
    last_modified: str | None
    attempts: int = 1  # requests made, retries included
    seconds: float = 0.0  # time spent fetching (retries and waits included, queueing not)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a parser needs besides the bytes: who it parses for and when the fetch happened."""

    source: str  # the source's name; the platform label of every item
    seen_at: datetime  # aware UTC moment of the fetch
    url: str  # the response's final URL (relative links resolve against it)
    content_type: str | None = None


# An adapter's parser: bytes + context -> items, or SourceError with one readable line.
Parser = Callable[[bytes, Parsed], list[Item]]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of fetching one source once. Expected failures are values, not exceptions."""

    source: str  # the source's name
    items: tuple[Item, ...] = ()  # what the list or feed held (empty on error or 304)
    error: str | None = None  # one human-readable line, without the source name; None if ok
    not_modified: bool = False  # the server answered 304: nothing new, nothing to store
    etag: str | None = None  # validators to remember for the next fetch
    last_modified: str | None = None
    elapsed: float = 0.0  # seconds spent on this source: fetching and parsing, not queueing
    status: int | None = None  # final HTTP status, when a response arrived
    attempts: int = 0  # HTTP requests made, retries included
    retry_after: float | None = None  # seconds the server asked us to stay away (429/503)

    @property
    def ok(self) -> bool:
        return self.error is None
