"""config.toml -> frozen, validated :class:`Config`.

Every problem is collected and reported together, one line per problem naming the key path
(``sources[3].url: not an http(s) URL``), so a user fixes the file in one pass. Defaults live in
the dataclass fields below and nowhere else.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sources.hotlists import PLATFORMS
from sources.http import HttpSettings
from topicscout.errors import ConfigError
from topicscout.timeutil import parse_clock, parse_duration
from trends.model import Brand

# [brand] is read straight into trends' own type: one definition of what a brand is.
BrandConfig = Brand


@dataclass(frozen=True)
class DigestConfig:
    time: time = time(9, 30)  # local time of the daily digest
    timezone: str = "Asia/Shanghai"  # IANA zone for `time` and for dates shown to people
    size: int = 10  # ideas per digest
    window: timedelta = timedelta(hours=24)  # how far back "rising now" looks
    grace: timedelta = timedelta(hours=3)  # a digest missed by less (service down) is sent late

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class TelegramConfig:
    token_env: str = "TOPICSCOUT_BOT_TOKEN"  # NAME of the env var holding the token
    chats: tuple[int, ...] = ()  # chats allowed to use the bot (and subscribed by default)
    admins: tuple[int, ...] = ()  # user ids allowed to change keywords and sources
    base_url: str | None = None  # another Bot API server, e.g. a self-hosted one
    members: tuple[int, ...] = ()  # if set, only these users (and admins) may use/vote in chats

    def token(self) -> str | None:
        """The token from the environment; None when unset, which means "run without a bot"."""
        value = os.environ.get(self.token_env, "").strip()
        return value or None


@dataclass(frozen=True)
class StorageConfig:
    path: str = "topicscout.sqlite"  # relative paths are relative to the config file
    retention: timedelta = timedelta(days=90)  # snapshots older than this are pruned


@dataclass(frozen=True)
class SourceConfig:
    name: str  # unique; also the platform label of its items
    kind: str  # one of SOURCE_KINDS
    url: str | None = None  # feed or API URL (rss, json, newsnow/dailyhot base URL)
    platform: str | None = None  # which list: "weibo" for hotlist/newsnow/dailyhot
    every: timedelta = timedelta(minutes=15)  # how often it is due
    enabled: bool = True
    headers: tuple[tuple[str, str], ...] = ()  # extra request headers (cookie, referer)
    options: tuple[tuple[str, Any], ...] = ()  # kind-specific settings (json field paths, …)

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


# [crawl] is read straight into the crawler's own settings: its defaults live there, once.
CrawlConfig = HttpSettings


@dataclass(frozen=True)
class Config:
    brand: BrandConfig = field(default_factory=BrandConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    telegram: TelegramConfig | None = None  # None: no bot, everything else still works
    storage: StorageConfig = field(default_factory=StorageConfig)
    sources: tuple[SourceConfig, ...] = ()
    path: Path | None = None  # where it was loaded from
    crawl: CrawlConfig = field(default_factory=CrawlConfig)  # HTTP limits of the crawler

    @property
    def db_path(self) -> Path:
        raw = Path(self.storage.path).expanduser()
        if raw.is_absolute() or self.path is None:
            return raw
        return self.path.parent / raw


class _Problems:
    """Collects findings; each reader below returns a usable value even after a problem."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.lines.append(f"{key}: {message}")

    def unknown_keys(self, table: Mapping[str, Any], known: set[str], prefix: str) -> None:
        for key in table:
            if key not in known:
                hint = ", ".join(sorted(known))
                self.add(f"{prefix}.{key}" if prefix else key,
                         f"unknown key (expected one of: {hint})")


def _str_list(raw: Mapping[str, Any], key: str, path: str, p: _Problems) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        p.add(f"{path}.{key}", "must be a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def _int_list(raw: Mapping[str, Any], key: str, path: str, p: _Problems) -> tuple[int, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        p.add(f"{path}.{key}", "must be a list of integer ids")
        return ()
    return tuple(value)


def _typed(raw: Mapping[str, Any], key: str, path: str, kind: type, default: Any,
           p: _Problems) -> Any:
    if key not in raw:
        return default
    value = raw[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        p.add(f"{path}.{key}", f"must be a {kind.__name__}, got {type(value).__name__} {value!r}")
        return default
    return value


def _parsed(raw: Mapping[str, Any], key: str, path: str, parse: Callable[[str], Any],
            default: Any, p: _Problems) -> Any:
    if key not in raw:
        return default
    try:
        return parse(str(raw[key]))
    except ValueError as e:
        p.add(f"{path}.{key}", str(e))
        return default


def is_http_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in text


def _known(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def _brand(raw: Mapping[str, Any], p: _Problems) -> BrandConfig:
    p.unknown_keys(raw, _known(BrandConfig), "brand")
    return BrandConfig(
        name=_typed(raw, "name", "brand", str, BrandConfig.name, p),
        keywords=_str_list(raw, "keywords", "brand", p),
        related=_str_list(raw, "related", "brand", p),
        exclude=_str_list(raw, "exclude", "brand", p),
        avoid=_str_list(raw, "avoid", "brand", p),
    )


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"{name!r} is not an IANA timezone like Asia/Shanghai") from e
    return name


def _digest(raw: Mapping[str, Any], p: _Problems) -> DigestConfig:
    p.unknown_keys(raw, _known(DigestConfig), "digest")
    d = DigestConfig()
    size = _typed(raw, "size", "digest", int, d.size, p)
    if not 1 <= size <= 50:
        p.add("digest.size", f"must be between 1 and 50, got {size}")
        size = d.size
    return DigestConfig(
        time=_parsed(raw, "time", "digest", parse_clock, d.time, p),
        timezone=_parsed(raw, "timezone", "digest", _check_zone, d.timezone, p),
        size=size,
        window=_parsed(raw, "window", "digest", parse_duration, d.window, p),
        grace=_parsed(raw, "grace", "digest", parse_duration, d.grace, p),
    )


def _telegram(raw: Mapping[str, Any], p: _Problems) -> TelegramConfig:
    p.unknown_keys(raw, _known(TelegramConfig) | {"token"}, "telegram")
    if "token" in raw:
        p.add("telegram.token", "never put the token in a file: set token_env to the NAME of an "
              "environment variable and export the token there")
    base_url = _typed(raw, "base_url", "telegram", str, None, p)
    if base_url is not None and not is_http_url(base_url):
        p.add("telegram.base_url", f"{base_url!r} is not an http(s) URL")
        base_url = None
    return TelegramConfig(
        token_env=_typed(raw, "token_env", "telegram", str, TelegramConfig.token_env, p),
        chats=_int_list(raw, "chats", "telegram", p),
        admins=_int_list(raw, "admins", "telegram", p),
        members=_int_list(raw, "members", "telegram", p),
        base_url=base_url,
    )


def _storage(raw: Mapping[str, Any], p: _Problems) -> StorageConfig:
    p.unknown_keys(raw, _known(StorageConfig), "storage")
    s = StorageConfig()
    return StorageConfig(
        path=_typed(raw, "path", "storage", str, s.path, p),
        retention=_parsed(raw, "retention", "storage", parse_duration, s.retention, p),
    )


_SOURCE_KEYS = {"name", "kind", "url", "platform", "every", "enabled", "headers"}
# Keys a kind may take on top of the common ones; values are passed through as options.
KIND_OPTIONS: dict[str, set[str]] = {
    "rss": {"timezone"},  # IANA zone assumed for zone-less dates (sources.feeds.DEFAULT_ZONE)
    "hotlist": set(),
    "newsnow": set(),
    "dailyhot": set(),
    "json": {"items", "title", "link", "rank", "heat", "method", "body"},
}
SOURCE_KINDS = tuple(KIND_OPTIONS)


def _source(raw: Any, index: int, p: _Problems) -> SourceConfig | None:
    path = f"sources[{index}]"
    if not isinstance(raw, dict):
        p.add(path, "must be a table ([[sources]])")
        return None
    kind = _typed(raw, "kind", path, str, "", p)
    if kind not in SOURCE_KINDS:
        p.add(f"{path}.kind", f"{kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    p.unknown_keys(raw, _SOURCE_KEYS | KIND_OPTIONS.get(kind, set()), path)
    name = _typed(raw, "name", path, str, "", p).strip()
    if not name:
        p.add(f"{path}.name", "is required")
    url = _typed(raw, "url", path, str, None, p)
    if url is not None and not is_http_url(url):
        p.add(f"{path}.url", f"{url!r} is not an http(s) URL")
    platform = _typed(raw, "platform", path, str, None, p)
    _check_kind_needs(raw, kind, url, platform, path, p)
    headers = _typed(raw, "headers", path, dict, {}, p)
    if not all(isinstance(v, str) for v in headers.values()):
        p.add(f"{path}.headers", "values must be strings")
        headers = {}
    options = {k: v for k, v in raw.items() if k in KIND_OPTIONS.get(kind, set())}
    return SourceConfig(
        name=name, kind=kind, url=url, platform=platform,
        every=_parsed(raw, "every", path, parse_duration, SourceConfig.every, p),
        enabled=_typed(raw, "enabled", path, bool, True, p),
        headers=tuple(sorted(headers.items())),
        options=tuple(sorted(options.items())),
    )


def _check_kind_needs(raw: Mapping[str, Any], kind: str, url: str | None,
                      platform: str | None, path: str, p: _Problems) -> None:
    """What each kind requires on top of the common keys: a url, a platform, valid options."""
    if kind in ("rss", "json") and url is None:
        p.add(f"{path}.url", f"is required for kind {kind!r}")
    if kind in ("hotlist", "newsnow", "dailyhot") and not platform:
        p.add(f"{path}.platform", f"is required for kind {kind!r}")
    if kind == "hotlist" and platform and platform not in PLATFORMS:
        p.add(f"{path}.platform", f"{platform!r} is not a known hot list (known: "
              f"{', '.join(sorted(PLATFORMS))}; use kind \"newsnow\" or \"json\" for others)")
    if kind == "dailyhot" and url is None:
        p.add(f"{path}.url", "is required for kind 'dailyhot' (the base URL of your DailyHotApi)")
    if kind == "rss" and "timezone" in raw:
        _parsed(raw, "timezone", path, _check_zone, None, p)
    if kind == "json":
        _json_options(raw, path, p)


def _json_options(raw: Mapping[str, Any], path: str, p: _Problems) -> None:
    for key in ("items", "title", "link", "rank", "heat"):
        _typed(raw, key, path, str, None, p)
    method = _typed(raw, "method", path, str, "GET", p)
    if method.upper() not in ("GET", "POST"):
        p.add(f"{path}.method", f"must be GET or POST, got {method!r}")
    if "body" in raw and not isinstance(raw["body"], str | dict):
        p.add(f"{path}.body", "must be a table or a JSON string")


def _sources(raw: Any, p: _Problems) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list):
        p.add("sources", "must be an array of tables ([[sources]])")
        return ()
    parsed = [s for i, item in enumerate(raw) if (s := _source(item, i, p)) is not None]
    seen: set[str] = set()
    for i, source in enumerate(parsed):
        if source.name and source.name in seen:
            p.add(f"sources[{i}].name", f"{source.name!r} is used twice")
        seen.add(source.name)
    return tuple(parsed)


def _seconds(text: str) -> float:
    return parse_duration(text).total_seconds()


def _positive(raw: Mapping[str, Any], key: str, default: int, p: _Problems) -> int:
    value = _typed(raw, key, "crawl", int, default, p)
    if value < (0 if key == "retries" else 1):
        p.add(f"crawl.{key}", f"must be {'0 or more' if key == 'retries' else 'positive'}, "
              f"got {value}")
        return default
    return int(value)


def _crawl(raw: Mapping[str, Any], p: _Problems) -> CrawlConfig:
    p.unknown_keys(raw, _known(CrawlConfig), "crawl")
    d = CrawlConfig()
    durations = {key: _parsed(raw, key, "crawl", _seconds, getattr(d, key), p)
                 for key in ("connect_timeout", "read_timeout", "deadline", "backoff",
                             "max_wait")}
    counts = {key: _positive(raw, key, getattr(d, key), p)
              for key in ("concurrency", "per_host", "max_bytes", "max_redirects", "retries")}
    user_agent = _typed(raw, "user_agent", "crawl", str, d.user_agent, p)
    return CrawlConfig(**durations, **counts, user_agent=user_agent)


_SECTIONS = {"brand", "digest", "telegram", "storage", "sources", "crawl"}


def parse_config(raw: Mapping[str, Any], path: Path | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem found."""
    p = _Problems()
    p.unknown_keys(raw, _SECTIONS, "")

    def table(name: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            p.add(name, "must be a table")
            return {}
        return value

    config = Config(
        brand=_brand(table("brand"), p),
        digest=_digest(table("digest"), p),
        telegram=_telegram(table("telegram"), p) if "telegram" in raw else None,
        storage=_storage(table("storage"), p),
        sources=_sources(raw.get("sources", []), p),
        path=path,
        crawl=_crawl(table("crawl"), p),
    )
    if p.lines:
        raise ConfigError(p.lines, str(path) if path else "")
    return config


def load_config(path: Path) -> Config:
    """Read and validate ``path``. A missing file is an error: we never run on guessed settings."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError([f"{path}: no such file (run `topicscout init` to create one)"]) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{path}: cannot read: {e}"]) from e
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{path}: not valid TOML: {e}"]) from e
    return parse_config(raw, path.resolve())
