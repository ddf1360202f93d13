"""The table of source kinds: how each builds its request and parses the bytes it gets back.

Every kind is data plus two small functions; ``crawl`` only ever looks a kind up here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sources.feeds import DEFAULT_ZONE, parse_feed
from sources.hotlists import PLATFORMS
from sources.hotlists.aggregators import (
    DAILYHOT_LISTS,
    NEWSNOW_LISTS,
    dailyhot_check,
    dailyhot_url,
    newsnow_check,
    newsnow_url,
)
from sources.hotlists.base import ListSpec, Platform, parse_platform
from sources.model import Parser, Request, SourceSpec
from topicscout.errors import SourceError

NEWSNOW_PUBLIC = "https://newsnow.busiyi.world"  # a public instance; self-host for real use


@dataclass(frozen=True)
class Kind:
    """How one kind of source is fetched and read."""

    request: Callable[[SourceSpec, datetime], Request]  # (source, now) -> what to fetch
    parser: Callable[[SourceSpec], Parser]  # source -> bytes parser (run in a worker thread)


def _headers(*groups: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Merge header groups; later groups (the source's own) win, case-insensitively."""
    merged: dict[str, tuple[str, str]] = {}
    for group in groups:
        for key, value in group:
            merged[key.lower()] = (key, value)
    return tuple(merged.values())


def _required_url(source: SourceSpec) -> str:
    if not source.url:
        raise SourceError(f"kind {source.kind!r} needs a url")
    return source.url


# -- rss -------------------------------------------------------------------------------------

def _feed_request(source: SourceSpec, now: datetime) -> Request:
    accept = ("Accept", "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                        "text/xml;q=0.9, */*;q=0.5")
    return Request(_required_url(source), headers=_headers((accept,), source.headers))


def _feed_parser(source: SourceSpec) -> Parser:
    return functools.partial(parse_feed, zone=str(source.option("timezone", DEFAULT_ZONE)))


# -- hotlist (a platform of the table in sources.hotlists) ------------------------------------

def platform_of(source: SourceSpec) -> Platform:
    platform = PLATFORMS.get(source.platform or "")
    if platform is None:
        known = ", ".join(sorted(PLATFORMS))
        raise SourceError(f"unknown hot-list platform {source.platform!r} (known: {known})")
    return platform


def _hotlist(source: SourceSpec) -> Platform:
    platform = platform_of(source)
    return replace(platform, url=source.url) if source.url else platform  # e.g. a proxy


# -- newsnow / dailyhot (self-hosted aggregators) ---------------------------------------------

def _newsnow(source: SourceSpec) -> Platform:
    return Platform(name="newsnow", url=newsnow_url(source.url or NEWSNOW_PUBLIC,
                                                    source.platform or ""),
                    lists=NEWSNOW_LISTS, check=newsnow_check)


def _dailyhot(source: SourceSpec) -> Platform:
    return Platform(name="dailyhot", url=dailyhot_url(_required_url(source),
                                                      source.platform or ""),
                    lists=DAILYHOT_LISTS, check=dailyhot_check)


# -- json (any JSON API, described in config) -------------------------------------------------

def json_platform(source: SourceSpec) -> Platform:
    """The generic kind's Platform, from the source's options (see config.example.toml)."""
    method = str(source.option("method", "GET")).upper()
    if method not in ("GET", "POST"):
        raise SourceError(f"option method must be GET or POST, got {method!r}")
    body = source.option("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as e:
            raise SourceError(f"option body is not JSON: {e}") from None
    def path(key: str, default: str | None) -> str | None:
        value = source.option(key, default)
        return None if value is None else str(value)
    spec = ListSpec(path=path("items", "") or "", title=path("title", "title"),
                    url=path("link", "url"), rank=path("rank", None), heat=path("heat", None))
    return Platform(name=source.name, url=_required_url(source), lists=(spec,), method=method,
                    body=(lambda _now: body) if body is not None else None)


# -- the kinds read through a Platform (hotlist, newsnow, dailyhot, json) ---------------------

def _platform_request(platform: Platform, source: SourceSpec, now: datetime) -> Request:
    json_accept = (("Accept", "application/json, text/plain, */*"),)
    return Request(platform.url, method=platform.method,
                   headers=_headers(json_accept, platform.headers, source.headers),
                   json_body=platform.body(now) if platform.body else None)


def _platform_kind(build: Callable[[SourceSpec], Platform]) -> Kind:
    """A kind whose source describes a Platform (``build`` raises SourceError if it can't)."""
    return Kind(request=lambda source, now: _platform_request(build(source), source, now),
                parser=lambda source: functools.partial(parse_platform, build(source)))


KINDS: dict[str, Kind] = {
    "rss": Kind(_feed_request, _feed_parser),
    "hotlist": _platform_kind(_hotlist),
    "newsnow": _platform_kind(_newsnow),
    "dailyhot": _platform_kind(_dailyhot),
    "json": _platform_kind(json_platform),
}


def kind_of(source: SourceSpec) -> Kind:
    kind = KINDS.get(source.kind)
    if kind is None:
        raise SourceError(f"unknown source kind {source.kind!r}")
    return kind
