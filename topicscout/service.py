"""Use cases shared by the CLI, the bot and the scheduler: import, analyse, digest, vote, export.

This is the only layer that joins the pure cores (``trends``, ``sources``) to the store; the CLI
and the bot are thin shells over these functions.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sources.crawl import Job
from sources.crawl import crawl as crawl_sources
from sources.health import health_status, is_due, next_due
from sources.model import FetchResult, Validators
from topicscout.config import Config, SourceConfig
from topicscout.errors import InputError, StorageError, TopicscoutError
from topicscout.fulltext import match_query
from topicscout.snapshots import BadLine, item_to_record, parse_line, read_snapshot_file
from topicscout.store import SourceState, Store, from_epoch, to_epoch
from topicscout.types import Item, normalize_for_identity, utc_now
from topicscout.views import (
    VOTE_VALUES,
    IdeaView,
    SearchHit,
    ShortlistEntry,
    Tally,
    view_from_row,
)
from trends.analyze import analyze, lookback
from trends.model import Analysis, Brand, Idea, Relevance, Safety, Topic
from trends.relevance import matched_words
from trends.text import Tokenizer

IMPORT_BATCH = 5000
# Suggested ideas are remembered this long for "do not repeat unless it has new momentum".
REMEMBER_SUGGESTIONS = timedelta(days=3)


@dataclass
class App:
    """Config + open store + a tokenizer whose cache outlives one analysis."""

    config: Config
    store: Store
    # Only the current words' tokenizer is kept: each holds its own jieba dictionary (~60 MB),
    # and a service running for months sees many /keywords changes.
    _tokenizer: tuple[tuple[str, ...], Tokenizer] | None = None  # (its user words, it)

    def brand(self) -> Brand:
        """The config's brand with keywords added / removed from the chat applied."""
        added, removed = self.store.keyword_changes()
        base = self.config.brand
        keywords = [k for k in (*base.keywords, *added) if k not in removed]
        return Brand(name=base.name, keywords=tuple(dict.fromkeys(keywords)),
                     related=base.related, exclude=base.exclude, avoid=base.avoid)

    def tokenizer(self, brand: Brand) -> Tokenizer:
        words = brand.keywords + brand.related + brand.exclude + brand.avoid
        if self._tokenizer is None or self._tokenizer[0] != words:
            self._tokenizer = (words, Tokenizer(words))
        return self._tokenizer[1]

    def close(self) -> None:
        self.store.close()


# -- import --------------------------------------------------------------------------------


@dataclass
class ImportReport:
    files: int = 0
    lines: int = 0  # usable lines read
    items_new: int = 0
    snapshots_new: int = 0
    bad: list[BadLine] = field(default_factory=list)


def import_files(store: Store, paths: Sequence[Path],
                 on_progress: Callable[[Path, int], None] | None = None) -> ImportReport:
    """Ingest snapshot files in batches; idempotent; bad lines are collected, not fatal."""
    report = ImportReport()
    for path in paths:
        batch: list[Item] = []
        for item in read_snapshot_file(path, report.bad):
            batch.append(item)
            if len(batch) >= IMPORT_BATCH:
                _ingest(store, batch, report)
                if on_progress:
                    on_progress(path, report.lines)
        _ingest(store, batch, report)
        report.files += 1
        if on_progress:
            on_progress(path, report.lines)
    return report


def _ingest(store: Store, batch: list[Item], report: ImportReport) -> None:
    counts = store.add_items(batch)
    report.lines += len(batch)
    report.items_new += counts.items_new
    report.snapshots_new += counts.snapshots_new
    batch.clear()


# -- analysis and digests ------------------------------------------------------------------


def analyze_at(app: App, as_of: datetime, *, window: timedelta | None = None,
               limit: int | None = None, suggested: dict[str, float] | None = None) -> Analysis:
    """Run the trends pipeline on what the database knew at ``as_of`` (nothing later)."""
    window = window or app.config.digest.window
    observations = app.store.observations(as_of - lookback(window), as_of)
    brand = app.brand()
    tokenizer = app.tokenizer(brand)
    load_title_tokens(app.store, tokenizer,
                      {o.title for o in observations} | set(matched_words(brand)))
    analysis = analyze(observations, as_of, brand, tokenizer=tokenizer, window=window,
                       limit=limit or app.config.digest.size, suggested=suggested)
    save_title_tokens(app.store, tokenizer)
    return analysis


@dataclass(frozen=True)
class Digest:
    """A digest as produced (and, when recorded, stored with its idea ids)."""

    as_of: datetime
    brand: str
    ideas: tuple[Idea, ...]
    new_topics: int  # rising stories first seen within the digest window
    digest_id: int | None = None
    idea_ids: tuple[int, ...] = ()


def make_digest(app: App, as_of: datetime, *, kind: str = "adhoc",
                record: bool = True) -> Digest:
    """The digest as of ``as_of``; daily digests skip ideas already suggested recently."""
    suggested = (app.store.suggested_story_keys(as_of, as_of - REMEMBER_SUGGESTIONS)
                 if kind == "daily" else {})
    analysis = analyze_at(app, as_of, suggested=suggested)
    window = app.config.digest.window
    new_topics = sum(1 for t in analysis.topics if t.first_seen > as_of - window)
    digest = Digest(as_of=as_of, brand=app.brand().name, ideas=analysis.ideas,
                    new_topics=new_topics)
    if not record:
        return digest
    digest_id, idea_ids = app.store.save_digest(
        as_of, [idea_to_row(i) for i in analysis.ideas], kind=kind)
    return Digest(as_of=as_of, brand=digest.brand, ideas=digest.ideas, new_topics=new_topics,
                  digest_id=digest_id, idea_ids=tuple(idea_ids))


def idea_to_row(idea: Idea) -> dict[str, Any]:
    """The idea as a database row: lists as JSON text, ``first_seen`` as epoch seconds."""
    fields = _idea_fields(idea)
    row = {key: json.dumps(fields[key], ensure_ascii=False)
           for key in ("platforms", "terms", "matched", "items")}
    return {**fields, **row, "first_seen": to_epoch(fields["first_seen"])}


def _idea_fields(idea: Idea) -> dict[str, Any]:
    """The idea in the shape the store decodes its rows into (lists, aware datetimes)."""
    t = idea.topic
    return {
        "story_key": t.key, "title": t.title, "why": t.why, "score": t.score,
        "relevance": t.relevance.score, "safety": t.safety.label, "angle": idea.angle,
        "platforms": list(t.platforms), "terms": list(t.terms),
        "matched": list(t.relevance.matched or t.safety.flags),
        "first_seen": t.first_seen, "items": [item_to_record(i) for i in t.items],
    }


# -- replay --------------------------------------------------------------------------------


def replay_steps(start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    steps, moment = [], start
    while moment <= end:
        steps.append(moment)
        moment += every
    return steps


def replay(app: App, paths: Sequence[Path], steps: Sequence[datetime],
           bad: list[BadLine]) -> Iterator[tuple[Digest, int]]:
    """Import lines in time order and yield (digest, lines imported) at each step.

    Lines are merged across files by ``seen_at``, so the database holds exactly what a live
    crawler would have had at each step.
    """
    stream = heapq.merge(*(_sorted_file(p, bad) for p in paths), key=lambda i: i.seen_at)
    pending: Item | None = next(stream, None)
    for step in steps:
        batch: list[Item] = []
        while pending is not None and pending.seen_at <= step:
            batch.append(pending)
            pending = next(stream, None)
        app.store.add_items(batch)
        yield make_digest(app, step, kind="daily"), len(batch)


def _sorted_file(path: Path, bad: list[BadLine]) -> Iterator[Item]:
    return iter(sorted(read_snapshot_file(path, bad), key=lambda i: i.seen_at))


# -- trends --------------------------------------------------------------------------------


def load_title_tokens(store: Store, tokenizer: Tokenizer, titles: set[str]) -> None:
    """Give the tokenizer the stored tokens of titles it has not seen in this process.

    Tokens of a title never change (for one tokenizer signature), so a fresh process answers
    `trends` without loading jieba's dictionary unless a title is new.
    """
    unknown = [t for t in titles if not tokenizer.knows(t)]
    if unknown:
        tokenizer.preload(store.title_tokens(tokenizer.signature, unknown))


def save_title_tokens(store: Store, tokenizer: Tokenizer) -> None:
    """Keep the tokens of titles tokenized in this run for the next process.

    Only a cache: a database that cannot be written (read-only file, disk full) costs the next
    run its speed, not its answer, so `trends` still answers.
    """
    fresh = tokenizer.take_fresh()
    try:
        store.save_title_tokens(tokenizer.signature, fresh)
    except StorageError:
        return


# -- JSON output (DESIGN.md's shape) ---------------------------------------------------------


def topic_to_json(topic: Topic, tz: Any) -> dict[str, Any]:
    return {
        "title": topic.title, "terms": list(topic.terms), "score": topic.score,
        "platforms": list(topic.platforms),
        "first_seen": topic.first_seen.astimezone(tz).isoformat(),
        "why": topic.why,
        "relevance": topic.relevance.score, "matched": list(topic.relevance.matched),
        "safety": topic.safety.label, "safety_flags": list(topic.safety.flags),
        "items": [item_to_record(i, tz) for i in topic.items],
    }


def digest_to_json(digest: Digest, tz: Any) -> dict[str, Any]:
    ideas = []
    for position, idea in enumerate(digest.ideas):
        entry = {"angle": idea.angle, **topic_to_json(idea.topic, tz)}
        if digest.idea_ids:
            entry = {"id": digest.idea_ids[position], **entry}
        ideas.append(entry)
    return {"as_of": digest.as_of.astimezone(tz).isoformat(), "brand": digest.brand,
            "new_topics": digest.new_topics, "ideas": ideas}


def analysis_to_json(analysis: Analysis, limit: int, tz: Any) -> dict[str, Any]:
    return {"as_of": analysis.now.astimezone(tz).isoformat(),
            "topics": [topic_to_json(t, tz) for t in analysis.topics[:limit]]}


# -- bot -----------------------------------------------------------------------------------

SEARCH_DAYS = timedelta(days=7)  # /search looks at headlines seen this long before now


def digest_views(digest: Digest) -> list[IdeaView]:
    """The ideas of a fresh digest, through the same row shape the store gives back."""
    views = []
    for position, idea in enumerate(digest.ideas, start=1):
        row = _idea_fields(idea)
        row["position"] = position
        row["id"] = digest.idea_ids[position - 1] if digest.idea_ids else None
        views.append(view_from_row(row))
    return views


def latest_moment(app: App, now: datetime) -> datetime:
    """``now``, unless the database ends earlier (an imported archive): then its end."""
    span = app.store.time_span()
    return min(now, span[1]) if span else now


@dataclass(frozen=True)
class VoteResult:
    held: str | None  # the vote the user now holds on the idea; None: withdrawn
    tally: Tally


def cast_vote(app: App, idea_id: int, user_id: int, user_name: str | None, value: str,
              at: datetime) -> VoteResult:
    """One tap: the same button again withdraws, another button changes the vote."""
    if value not in VOTE_VALUES:
        raise InputError(f"unknown vote {value!r}")
    if not app.store.idea_positions([idea_id]):
        raise InputError(f"idea {idea_id} does not exist")
    held = app.store.set_vote(idea_id, user_id, user_name, value, at)
    return VoteResult(held, Tally.of(app.store.tallies(idea_id)))


def keyboard_state(app: App, idea_ids: Sequence[int]) -> list[tuple[int, int, Tally]]:
    """(idea id, position, tally) of ideas that still exist, in the order given."""
    positions = app.store.idea_positions(idea_ids)
    tallies = app.store.idea_tallies([i for i in idea_ids if i in positions])
    return [(i, positions[i], Tally.of(tallies[i])) for i in idea_ids if i in positions]


def shortlist(app: App, since: datetime) -> list[ShortlistEntry]:
    """Voted stories of digests since ``since``, best first: 👍 − 👎, then ⭐, then 👍."""
    rows, votes = app.store.shortlist_rows(since)
    by_story: dict[str, dict[str, Any]] = {}
    for row in rows:  # oldest digest first: the latest suggestion wins the display
        by_story[row["story_key"]] = row
    story_of = {row["id"]: row["story_key"] for row in rows}
    latest: dict[str, dict[int, tuple[str, str]]] = {}
    for vote in votes:  # in voting order: a later vote on any copy replaces an earlier one
        key = story_of.get(vote["idea_id"])
        if key is not None:
            name = vote["user_name"] or str(vote["user_id"])
            latest.setdefault(key, {}).pop(vote["user_id"], None)
            latest[key][vote["user_id"]] = (name, vote["value"])
    entries = []
    for key, row in by_story.items():
        voters = tuple(latest.get(key, {}).values())
        counts = {v: sum(1 for _, held in voters if held == v) for v in VOTE_VALUES}
        entries.append(ShortlistEntry(view_from_row(row), Tally.of(counts), voters))
    entries.sort(key=lambda e: (-e.tally.net, -e.tally.star, -e.tally.up, e.view.first_seen))
    return entries


def default_since(app: App, now: datetime, span: timedelta = timedelta(days=7)) -> datetime:
    """The start of "this week" for a shortlist: ``span`` before now or the newest digest."""
    newest = app.store.newest_digest_as_of()
    return (min(now, newest) if newest else now) - span


def search_stories(app: App, words: str, now: datetime, *, limit: int = 10) -> list[SearchHit]:
    """Headlines seen in the last SEARCH_DAYS (before the data's end) matching every word."""
    match = match_query(words)
    if match is None:
        return []
    since = latest_moment(app, now) - SEARCH_DAYS
    hits: dict[str, SearchHit] = {}
    for row in app.store.search_items(match, since, limit * 3):
        key = normalize_for_identity(row["title"])
        old = hits.get(key)
        if old is None:
            hits[key] = SearchHit(row["title"], (row["platform"],), row["url"],
                                  row["best_rank"], row["last_seen"])
        elif row["platform"] not in old.platforms:
            ranks = [r for r in (old.best_rank, row["best_rank"]) if r]
            hits[key] = SearchHit(old.title, (*old.platforms, row["platform"]),
                                  old.url or row["url"], min(ranks) if ranks else None,
                                  max(old.last_seen, row["last_seen"]))
    return list(hits.values())[:limit]


def subscribed_chats(app: App) -> list[int]:
    """Configured chats that have not said /unsubscribe."""
    if app.config.telegram is None:
        return []
    state = app.store.chat_subscriptions()
    return [c for c in app.config.telegram.chats if state.get(c, True)]


def set_subscription(app: App, chat_id: int, subscribed: bool, at: datetime,
                     title: str | None = None) -> None:
    app.store.set_subscribed(chat_id, subscribed, at, title)


def is_subscribed(app: App, chat_id: int) -> bool:
    return app.store.chat_subscriptions().get(chat_id, True)


def change_keyword(app: App, word: str, present: bool, user_id: int | None,
                   at: datetime) -> tuple[str, ...]:
    """Add or remove a brand keyword (on top of the config's list); returns the keywords now."""
    word = word.strip()
    if not word or len(word) > 40:
        raise InputError("a keyword is 1–40 characters")
    app.store.set_keyword(word, present, user_id, at)
    return app.brand().keywords


# -- service -------------------------------------------------------------------------------


def load_digest(app: App, digest_id: int) -> Digest:
    """A stored digest rebuilt from its rows, to resend the same ideas (and vote ids) after a
    restart. Stored rows keep what the digest shows; the scores' inner parts are not kept."""
    row = app.store.digest_row(digest_id)
    if row is None:
        raise StorageError(f"digest {digest_id} is not in the database")
    as_of = from_epoch(row["as_of"])
    assert as_of is not None
    ideas, ids = [], []
    for stored in app.store.digest_ideas(digest_id):
        ideas.append(_idea_from_row(stored))
        ids.append(int(stored["id"]))
    window = app.config.digest.window
    new_topics = row.get("new_topics")
    if new_topics is None:  # not recorded (an ad-hoc digest): count the ideas that are new
        new_topics = sum(1 for i in ideas if i.topic.first_seen > as_of - window)
    return Digest(as_of=as_of, brand=app.brand().name, ideas=tuple(ideas),
                  new_topics=int(new_topics), digest_id=digest_id, idea_ids=tuple(ids))


def _idea_from_row(row: dict[str, Any]) -> Idea:
    risky = row["safety"] == "risky"
    matched = tuple(row["matched"])
    topic = Topic(
        key=row["story_key"], title=row["title"], terms=tuple(row["terms"]),
        score=float(row["score"]), platforms=tuple(row["platforms"]),
        first_seen=row["first_seen"], why=row["why"],
        relevance=Relevance(score=float(row["relevance"]), matched=() if risky else matched,
                            excluded=False, reason=""),
        safety=Safety(risky=risky, flags=matched if risky else ()),
        items=tuple(parse_line(json.dumps(record)) for record in row["items"]),
    )
    return Idea(topic=topic, angle=row["angle"])


# -- sources: crawl and health -------------------------------------------------------------


@dataclass(frozen=True)
class SourceOutcome:
    """What one source's fetch did, for the crawl summary."""

    name: str
    status: str  # "ok", "not modified" or "failed"
    items: int  # entries in the list or feed as fetched
    items_new: int  # of those, never seen before
    snapshots_new: int  # observations stored
    elapsed: float  # seconds
    error: str | None = None  # one line, when failed
    http_status: int | None = None


@dataclass
class CrawlReport:
    """One crawl: an outcome per fetched source (in finishing order) and who was not due."""

    started: datetime
    outcomes: list[SourceOutcome] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def all_failed(self) -> bool:
        """True when sources were fetched and none of them succeeded (the CLI exits 1)."""
        return bool(self.outcomes) and len(self.failed) == len(self.outcomes)

    @property
    def items_new(self) -> int:
        return sum(o.items_new for o in self.outcomes)


def sources_to_crawl(app: App, now: datetime, only: str | None = None,
                     states: dict[str, SourceState] | None = None
                     ) -> tuple[list[SourceConfig], list[str]]:
    """(due sources, enabled sources not yet due). ``only`` names one source, fetched even if
    not due; an unknown or disabled name is an InputError. ``states`` saves re-reading the
    store's source_states() when the caller has them already."""
    if only is not None:
        chosen = [s for s in app.config.sources if s.name == only]
        if not chosen:
            known = ", ".join(s.name for s in app.config.sources) or "none configured"
            raise InputError(f"--source {only!r}: no such source (known: {known})")
        if not chosen[0].enabled:
            raise InputError(f"--source {only!r} is disabled in the config (enabled = false)")
        return chosen, []
    states = app.store.source_states() if states is None else states
    due: list[SourceConfig] = []
    waiting: list[SourceConfig] = []
    for source in (s for s in app.config.sources if s.enabled):
        state = states.get(source.name)
        (due if is_due(state.next_due if state else None, now) else waiting).append(source)
    return due, [s.name for s in waiting]


async def crawl(app: App, *, now: datetime | None = None, only: str | None = None,
                on_result: Callable[[FetchResult], None] | None = None) -> CrawlReport:
    """Fetch every due source once, concurrently; store each result as it arrives.

    Each source's items and fetch state are written in one transaction; a broken source is a
    failed outcome with its error line, never an exception. Store writes happen on the event
    loop's thread (the one that opened the store) and take milliseconds.
    """
    now = now or utc_now()
    states = app.store.source_states()
    due, not_due = sources_to_crawl(app, now, only, states)
    report = CrawlReport(started=now, not_due=not_due)
    by_name = {s.name: s for s in due}

    def record(result: FetchResult) -> None:
        report.outcomes.append(_record_result(app, by_name[result.source], result,
                                              states.get(result.source), now))
        if on_result is not None:
            on_result(result)

    jobs = [Job(s, _validators(states.get(s.name))) for s in _slowest_first(due, states)]
    try:
        await crawl_sources(jobs, now, settings=app.config.crawl, on_result=record)
    except ExceptionGroup as group:
        # A StorageError (disk full, locked) ends the crawl: surface it as the one clean error
        # the CLI knows, not as a task group. Anything else is a bug and stays as it is.
        first = group.exceptions[0]
        if len(group.exceptions) == 1 and isinstance(first, TopicscoutError):
            raise first from None
        raise
    return report


def _slowest_first(sources: list[SourceConfig], states: dict[str, SourceState]
                   ) -> list[SourceConfig]:
    """Longest-first order (by the last fetch's duration; never-fetched first, as they may be
    slow): a slow source that starts last would stretch the crawl by its whole duration."""
    def last(source: SourceConfig) -> float:
        state = states.get(source.name)
        return float("inf") if state is None or state.last_elapsed is None \
            else state.last_elapsed
    return sorted(sources, key=last, reverse=True)


def _validators(state: SourceState | None) -> Validators:
    return Validators(state.etag, state.last_modified) if state else Validators()


def _record_result(app: App, source: SourceConfig, result: FetchResult,
                   state: SourceState | None, now: datetime) -> SourceOutcome:
    failures = (state.consecutive_failures if state else 0) + 1 if result.error else 0
    counts = app.store.record_fetch(
        source.name, source.kind, result.items, at=now, error=result.error, etag=result.etag,
        last_modified=result.last_modified,
        next_due=next_due(now, source.every, failures, result.retry_after),
        elapsed=result.elapsed)
    status = "failed" if result.error else "not modified" if result.not_modified else "ok"
    return SourceOutcome(name=source.name, status=status, items=len(result.items),
                         items_new=counts.items_new, snapshots_new=counts.snapshots_new,
                         elapsed=result.elapsed, error=result.error, http_status=result.status)


@dataclass(frozen=True)
class SourceHealth:
    """One row of `topicscout sources`."""

    name: str
    kind: str
    enabled: bool
    status: str  # ok, error, backing off, failing, pending, disabled, not in config
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_due: datetime | None
    items_total: int


def source_health(app: App) -> list[SourceHealth]:
    """Every configured source with its fetch state, plus stored sources no longer configured
    (listed, not hidden: their items are still in the database)."""
    states = app.store.source_states()
    rows = [_health(s.name, s.kind, s.enabled, states.get(s.name)) for s in app.config.sources]
    configured = {s.name for s in app.config.sources}
    rows += [_health(name, state.kind or "?", False, state, status="not in config")
             for name, state in sorted(states.items()) if name not in configured]
    return rows


def _health(name: str, kind: str, enabled: bool, state: SourceState | None,
            status: str | None = None) -> SourceHealth:
    failures = state.consecutive_failures if state else 0
    return SourceHealth(
        name=name, kind=kind, enabled=enabled,
        status=status or health_status(enabled=enabled, failures=failures,
                                       ever_succeeded=bool(state and state.last_success)),
        last_success=state.last_success if state else None,
        last_error=state.last_error if state else None,
        last_error_at=state.last_error_at if state else None,
        consecutive_failures=failures, next_due=state.next_due if state else None,
        items_total=state.items_total if state else 0)
