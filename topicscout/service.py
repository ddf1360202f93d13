"""Use cases shared by the CLI, the bot and the scheduler: import, analyse, digest, vote, export.

This is the only layer that joins the pure cores (``trends``, ``sources``) to the store; the CLI
and the bot are thin shells over these functions.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from topicscout.config import Config
from topicscout.errors import StorageError
from topicscout.snapshots import BadLine, item_to_record, read_snapshot_file
from topicscout.store import Store, to_epoch
from topicscout.types import Item, utc_now
from trends.analyze import analyze, lookback
from trends.model import Analysis, Brand, Idea, Topic
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
    _tokenizers: dict[tuple[str, ...], Tokenizer] = field(default_factory=dict)

    def brand(self) -> Brand:
        """The config's brand with keywords added / removed from the chat applied."""
        added, removed = self.store.keyword_changes()
        base = self.config.brand
        keywords = [k for k in (*base.keywords, *added) if k not in removed]
        return Brand(name=base.name, keywords=tuple(dict.fromkeys(keywords)),
                     related=base.related, exclude=base.exclude, avoid=base.avoid)

    def tokenizer(self, brand: Brand) -> Tokenizer:
        words = brand.keywords + brand.related + brand.exclude + brand.avoid
        if words not in self._tokenizers:
            self._tokenizers[words] = Tokenizer(words)
        return self._tokenizers[words]

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
    t = idea.topic
    return {
        "story_key": t.key, "title": t.title, "why": t.why, "score": t.score,
        "relevance": t.relevance.score, "safety": t.safety.label, "angle": idea.angle,
        "platforms": json.dumps(list(t.platforms), ensure_ascii=False),
        "terms": json.dumps(list(t.terms), ensure_ascii=False),
        "matched": json.dumps(list(t.relevance.matched or t.safety.flags), ensure_ascii=False),
        "first_seen": to_epoch(t.first_seen),
        "items": json.dumps([item_to_record(i) for i in t.items], ensure_ascii=False),
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


# -- trends (issue 4) ------------------------------------------------------------------------


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


def default_as_of(store: Store) -> datetime:
    """Now, unless the database ends earlier (imported archives): then its last snapshot."""
    span = store.time_span()
    now = utc_now()
    return min(now, span[1]) if span else now


def iter_lines(objects: Iterable[dict[str, Any]]) -> Iterator[str]:
    for obj in objects:
        yield json.dumps(obj, ensure_ascii=False)
