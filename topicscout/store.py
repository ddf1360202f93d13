"""The one module that speaks SQL.

SQLite through sqlite-utils, WAL mode, schema changes as named migrations recorded in the
database (``_sqlite_migrations``). Times are stored as integer Unix seconds (UTC) so they
compare and index as numbers, never as formatted text. Every multi-row write is one
transaction (``db.atomic()``): a crash leaves either all of it or none of it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from topicscout.errors import StorageError
from topicscout.types import Item

migrations = Migrations("topicscout")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE items (
            id TEXT PRIMARY KEY,          -- types.item_id: platform + guid or normalised title
            platform TEXT NOT NULL,
            title TEXT NOT NULL,
            url TEXT,
            guid TEXT,
            published_at INTEGER,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL
        );
        CREATE INDEX items_last_seen ON items(last_seen);
        CREATE TABLE snapshots (          -- rank/heat of one item in one fetch of one list
            item_id TEXT NOT NULL REFERENCES items(id),
            seen_at INTEGER NOT NULL,
            rank INTEGER,
            heat INTEGER,
            pinned INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (item_id, seen_at)
        ) WITHOUT ROWID;
        CREATE INDEX snapshots_seen_at ON snapshots(seen_at);
        CREATE TABLE sources (            -- fetch state and health, one row per configured source
            name TEXT PRIMARY KEY,
            kind TEXT,
            etag TEXT,
            last_modified TEXT,
            last_attempt INTEGER,
            last_success INTEGER,
            last_error TEXT,
            last_error_at INTEGER,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            next_due INTEGER,
            items_total INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            as_of INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            kind TEXT NOT NULL DEFAULT 'daily'   -- 'daily' (scheduled), 'adhoc' (/digest, CLI)
        );
        CREATE TABLE ideas (
            id INTEGER PRIMARY KEY,
            digest_id INTEGER NOT NULL REFERENCES digests(id),
            position INTEGER NOT NULL,
            story_key TEXT NOT NULL,      -- stable across digests: "already suggested?" and votes
            title TEXT NOT NULL,
            why TEXT NOT NULL,
            score REAL NOT NULL,
            relevance REAL NOT NULL,
            safety TEXT NOT NULL,
            angle TEXT NOT NULL,
            platforms TEXT NOT NULL,      -- JSON list
            terms TEXT NOT NULL,          -- JSON list
            matched TEXT NOT NULL,        -- JSON list
            first_seen INTEGER NOT NULL,
            items TEXT NOT NULL           -- JSON list of evidence items
        );
        CREATE INDEX ideas_story ON ideas(story_key);
        CREATE TABLE votes (              -- one per user per idea, changeable
            idea_id INTEGER NOT NULL REFERENCES ideas(id),
            user_id INTEGER NOT NULL,
            user_name TEXT,
            value TEXT NOT NULL CHECK (value IN ('up', 'down', 'star')),
            voted_at INTEGER NOT NULL,
            PRIMARY KEY (idea_id, user_id)
        );
        CREATE TABLE chats (
            chat_id INTEGER PRIMARY KEY,
            title TEXT,
            subscribed INTEGER NOT NULL DEFAULT 1,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE keywords (           -- brand keywords added from the chat by admins
            word TEXT PRIMARY KEY,
            added_by INTEGER,
            added_at INTEGER NOT NULL,
            removed INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE deliveries (         -- exactly-once bookkeeping of the daily digest
            chat_id INTEGER NOT NULL,
            day TEXT NOT NULL,            -- local calendar date of the digest, YYYY-MM-DD
            digest_id INTEGER,
            status TEXT NOT NULL,         -- 'sending', 'sent', 'failed'
            updated_at INTEGER NOT NULL,
            error TEXT,
            PRIMARY KEY (chat_id, day)
        );
        """
    )


@migrations()
def m010_sources_last_elapsed(db: sqlite_utils.Database) -> None:
    # Seconds the last fetch took: the crawler starts the slowest sources first, so one slow
    # upstream does not start last and stretch the whole crawl.
    db.execute("ALTER TABLE sources ADD COLUMN last_elapsed REAL")


@migrations()
def m020_trends_title_tokens(db: sqlite_utils.Database) -> None:
    """Tokens of each title, per tokenizer signature: jieba then loads only for new titles."""
    db.executescript(
        """
        CREATE TABLE title_tokens (
            signature TEXT NOT NULL,      -- trends.text.Tokenizer.signature (user words, rules)
            title TEXT NOT NULL,
            tokens TEXT NOT NULL,         -- trends.text.encode_tokens
            PRIMARY KEY (signature, title)
        ) WITHOUT ROWID;
        """
    )


@migrations()
def m030_bot_search(db: sqlite_utils.Database) -> None:
    """Full-text index over item titles for /search (jieba tokens, default FTS5 tokenizer).

    The row id of ``items_fts`` is the item's rowid. Rows are added by search itself
    (:func:`_index_unindexed`), not by every insert: a crawl then never loads jieba's dictionary
    or tokenizes on the event loop, and titles nobody searches are never indexed.
    """
    db.execute("CREATE VIRTUAL TABLE items_fts USING fts5(tokens)")


def _index_unindexed(conn: sqlite3.Connection, since: int) -> int:
    """Index items last seen at or after ``since`` that are not in ``items_fts`` yet."""
    rows = conn.execute(
        "SELECT rowid, title FROM items WHERE last_seen >= ? AND NOT EXISTS"
        " (SELECT 1 FROM items_fts f WHERE f.rowid = items.rowid)", (since,)).fetchall()
    if rows:
        from topicscout.fulltext import index_text  # jieba loads only when there is work

        conn.executemany("INSERT INTO items_fts (rowid, tokens) VALUES (?, ?)",
                         [(rowid, index_text(title)) for rowid, title in rows])
    return len(rows)


@migrations()
def m040_service_source_alerts(db: sqlite_utils.Database) -> None:
    """Alert state per source, so a restart does not re-announce a failure already reported."""
    db.executescript(
        """
        CREATE TABLE source_alerts (
            source TEXT PRIMARY KEY,
            failures INTEGER NOT NULL DEFAULT 0,  -- consecutive failed fetches seen by the service
            alerted INTEGER NOT NULL DEFAULT 0,   -- 1 while admins have been told it is failing
            last_error TEXT,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX deliveries_status ON deliveries(status);
        """
    )


@migrations()
def m041_service_digest_new_topics(db: sqlite_utils.Database) -> None:
    """The header figure of a daily digest, so a digest resent after a restart shows it too."""
    db.execute("ALTER TABLE digests ADD COLUMN new_topics INTEGER")


def to_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return int(moment.timestamp())


def from_epoch(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class IngestCounts:
    """What one batch of items did to the database."""

    items_new: int  # items never seen before
    snapshots_new: int  # observations not already stored (0 when re-importing)


@dataclass(frozen=True)
class PruneCounts:
    """What one retention run removed."""

    snapshots: int
    items: int
    search_rows: int = 0  # items_fts rows of the deleted items
    title_tokens: int = 0  # cached tokens of titles no item has any more


@dataclass(frozen=True)
class SourceState:
    """What the store remembers about fetching one source."""

    name: str
    kind: str | None
    etag: str | None  # validators of the last good response, for a conditional GET
    last_modified: str | None
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None  # one line; kept after a later success, for the health table
    last_error_at: datetime | None
    consecutive_failures: int  # reset to 0 by a success
    next_due: datetime | None  # backs off after repeated failures
    items_total: int  # distinct items this source has contributed
    last_elapsed: float | None = None  # seconds the last fetch took


class Store:
    """A topicscout database. Open with :meth:`open`; one instance per thread."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path | str) -> Store:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=30)
            db = sqlite_utils.Database(conn)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            migrations.apply(db)
        except (sqlite3.Error, OSError) as e:
            raise StorageError(f"cannot open database {path}: {e}") from e
        return cls(db, path)

    def close(self) -> None:
        self.db.close()

    # -- items and snapshots -------------------------------------------------------------

    def add_items(self, items: Iterable[Item]) -> IngestCounts:
        """Store observations; idempotent (the same item seen at the same moment adds nothing)."""
        batch = list(items)
        if not batch:
            return IngestCounts(0, 0)
        try:
            with self.db.atomic():
                return self._add_items(batch)
        except sqlite3.Error as e:
            raise StorageError(f"cannot store {len(batch)} items: {e}") from e

    def _add_items(self, batch: Sequence[Item]) -> IngestCounts:
        rows, snapshots = _item_rows(batch)
        conn = self.db.conn
        items_new = conn.executemany(
            """INSERT OR IGNORE INTO items (id, platform, title, url, guid, published_at,
                                            first_seen, last_seen)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""", rows).rowcount
        # The newest sighting decides the display title and link; first/last seen only widen.
        # A feed entry (same guid) whose title was edited loses its index row here, so the next
        # /search re-indexes it and finds it by its new words, not its old ones.
        conn.executemany(
            """DELETE FROM items_fts WHERE rowid = (SELECT rowid FROM items
                 WHERE id = :id AND :last >= last_seen AND title != :title)""",
            [{"id": r[0], "title": r[2], "last": r[7]} for r in rows])
        conn.executemany(
            """UPDATE items SET
                 title = CASE WHEN :last >= last_seen THEN :title ELSE title END,
                 url = CASE WHEN :last >= last_seen THEN coalesce(:url, url)
                            ELSE coalesce(url, :url) END,
                 first_seen = min(first_seen, :first), last_seen = max(last_seen, :last)
               WHERE id = :id""",
            [{"id": r[0], "title": r[2], "url": r[3], "first": r[6], "last": r[7]}
             for r in rows])
        snapshots_new = conn.executemany(
            "INSERT OR IGNORE INTO snapshots (item_id, seen_at, rank, heat, pinned)"
            " VALUES (?, ?, ?, ?, ?)", snapshots).rowcount
        return IngestCounts(items_new, snapshots_new)

    def _count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def counts(self) -> dict[str, int]:
        return {t: self._count(t) for t in ("items", "snapshots", "digests", "ideas", "votes")}

    def observations(self, since: datetime, until: datetime) -> list[Item]:
        """Every snapshot with ``since < seen_at <= until``: nothing after ``until`` leaks in."""
        rows = self.db.execute(
            """SELECT i.platform, i.title, i.url, s.rank, s.heat, s.pinned, i.guid,
                      i.published_at, s.seen_at
               FROM snapshots s JOIN items i ON i.id = s.item_id
               WHERE s.seen_at > ? AND s.seen_at <= ?
               ORDER BY s.seen_at, i.platform, s.rank""",
            (to_epoch(since), to_epoch(until)),
        )
        return [
            Item(platform=r[0], title=r[1], url=r[2], rank=r[3], heat=r[4], pinned=bool(r[5]),
                 guid=r[6], published_at=from_epoch(r[7]), seen_at=from_epoch(r[8]))  # type: ignore[arg-type]
            for r in rows
        ]

    def time_span(self) -> tuple[datetime, datetime] | None:
        lo, hi = self.db.execute("SELECT min(seen_at), max(seen_at) FROM snapshots").fetchone()
        if lo is None:
            return None
        return from_epoch(lo), from_epoch(hi)  # type: ignore[return-value]

    # -- digests and ideas ---------------------------------------------------------------

    def save_digest(self, as_of: datetime, ideas: Sequence[dict[str, Any]],
                    kind: str = "adhoc",
                    created_at: datetime | None = None) -> tuple[int, list[int]]:
        """Store a digest and its ideas (dicts as made by service.idea_to_row); returns the ids."""
        created = created_at or datetime.now(UTC)
        with self.db.atomic():
            cursor = self.db.conn.execute(
                "INSERT INTO digests (as_of, created_at, kind) VALUES (?, ?, ?)",
                (to_epoch(as_of), to_epoch(created), kind))
            digest_id = int(cursor.lastrowid or 0)
            idea_ids = []
            for position, idea in enumerate(ideas, start=1):
                row = {**idea, "digest_id": digest_id, "position": position}
                cols = ", ".join(row)
                marks = ", ".join("?" for _ in row)
                cur = self.db.conn.execute(f"INSERT INTO ideas ({cols}) VALUES ({marks})",
                                           list(row.values()))
                idea_ids.append(int(cur.lastrowid or 0))
        return digest_id, idea_ids

    def suggested_story_keys(self, before: datetime, since: datetime) -> dict[str, float]:
        """story_key -> best score it had in digests with since <= as_of < before."""
        rows = self.db.execute(
            """SELECT i.story_key, max(i.score) FROM ideas i JOIN digests d ON d.id = i.digest_id
               WHERE d.as_of < ? AND d.as_of >= ? AND d.kind = 'daily' GROUP BY i.story_key""",
            (to_epoch(before), to_epoch(since)))
        return {key: float(score) for key, score in rows}

    def idea(self, idea_id: int) -> dict[str, Any] | None:
        row = self._first_row("SELECT * FROM ideas WHERE id = ?", [idea_id])
        return _decode_idea(row) if row else None

    def digest_ideas(self, digest_id: int) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM ideas WHERE digest_id = ? ORDER BY position",
                             [digest_id])
        return [_decode_idea(r) for r in rows]

    def latest_digest(self, kind: str | None = None) -> dict[str, Any] | None:
        where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
        return self._first_row(
            f"SELECT * FROM digests {where} ORDER BY as_of DESC, id DESC LIMIT 1", params)

    # -- votes ---------------------------------------------------------------------------

    def set_vote(self, idea_id: int, user_id: int, user_name: str | None, value: str,
                 at: datetime) -> str | None:
        """Record a tap. The same button again withdraws the vote; returns the vote now held."""
        with self.db.atomic():
            row = self.db.execute("SELECT value FROM votes WHERE idea_id = ? AND user_id = ?",
                                  (idea_id, user_id)).fetchone()
            if row and row[0] == value:
                self.db.execute("DELETE FROM votes WHERE idea_id = ? AND user_id = ?",
                                (idea_id, user_id))
                return None
            self.db.execute(
                """INSERT INTO votes (idea_id, user_id, user_name, value, voted_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT(idea_id, user_id) DO UPDATE SET value = excluded.value,
                     user_name = excluded.user_name, voted_at = excluded.voted_at""",
                (idea_id, user_id, user_name, value, to_epoch(at)))
            return value

    def tallies(self, idea_id: int) -> dict[str, int]:
        return self.idea_tallies([idea_id])[idea_id]

    # -- chats and keywords --------------------------------------------------------------

    def set_subscribed(self, chat_id: int, subscribed: bool, at: datetime,
                       title: str | None = None) -> None:
        with self.db.atomic():
            self.db.execute(
                """INSERT INTO chats (chat_id, title, subscribed, updated_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT(chat_id) DO UPDATE SET subscribed = excluded.subscribed,
                     title = coalesce(excluded.title, title), updated_at = excluded.updated_at""",
                (chat_id, title, int(subscribed), to_epoch(at)))

    def chat_subscriptions(self) -> dict[int, bool]:
        return {int(c): bool(s) for c, s in
                self.db.execute("SELECT chat_id, subscribed FROM chats")}

    def keyword_changes(self) -> tuple[list[str], list[str]]:
        """(added, removed) keywords from the chat, to apply on top of the config's list."""
        added: list[str] = []
        removed: list[str] = []
        for word, gone in self.db.execute("SELECT word, removed FROM keywords ORDER BY added_at"):
            (removed if gone else added).append(word)
        return added, removed

    def set_keyword(self, word: str, present: bool, user_id: int | None, at: datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                """INSERT INTO keywords (word, added_by, added_at, removed) VALUES (?, ?, ?, ?)
                   ON CONFLICT(word) DO UPDATE SET removed = excluded.removed,
                     added_by = excluded.added_by, added_at = excluded.added_at""",
                (word, user_id, to_epoch(at), int(not present)))

    # -- maintenance ---------------------------------------------------------------------

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def iter_rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Read-only escape hatch for reports and tests."""
        yield from self.db.query(sql, list(params))

    def _first_row(self, sql: str, params: Sequence[Any]) -> dict[str, Any] | None:
        return next(self.iter_rows(sql, params), None)

    # -- trends: cached title tokens -----------------------------------------------------

    def title_tokens(self, signature: str, titles: Iterable[str]) -> dict[str, str]:
        """Stored tokens (encoded) of those titles that have them, for one tokenizer signature."""
        wanted = list(dict.fromkeys(titles))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), _SQL_VARS):
            chunk = wanted[start:start + _SQL_VARS]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(
                "SELECT title, tokens FROM title_tokens"
                f" WHERE signature = ? AND title IN ({marks})",
                [signature, *chunk]).fetchall())
        return found

    def save_title_tokens(self, signature: str, tokens: dict[str, str]) -> None:
        """Remember tokens of new titles; a title already stored keeps its row."""
        if not tokens:
            return
        try:
            with self.db.atomic():
                self.db.conn.executemany(
                    "INSERT OR IGNORE INTO title_tokens (signature, title, tokens)"
                    " VALUES (?, ?, ?)",
                    [(signature, title, text) for title, text in tokens.items()])
        except sqlite3.Error as e:
            raise StorageError(f"cannot store tokens of {len(tokens)} titles: {e}") from e

    # -- bot: search, shortlist, tallies -------------------------------------------------

    def search_items(self, match: str, since: datetime, limit: int) -> list[dict[str, Any]]:
        """Items seen since ``since`` whose title matches an FTS5 expression, best match first.

        Each row has platform, title, url, first_seen, last_seen (datetimes) and best_rank.
        Titles seen since ``since`` and not indexed yet are indexed first, in one transaction.
        """
        with self._writing("index new titles for search"):
            _index_unindexed(self.db.conn, to_epoch(since))
        rows = self.db.query(
            """SELECT i.id, i.platform, i.title, i.url, i.first_seen, i.last_seen,
                      (SELECT min(s.rank) FROM snapshots s WHERE s.item_id = i.id) AS best_rank
               FROM items_fts f JOIN items i ON i.rowid = f.rowid
               WHERE items_fts MATCH ? AND i.last_seen >= ?
               ORDER BY f.rank, i.last_seen DESC LIMIT ?""",
            [match, to_epoch(since), limit])
        return [{**r, "first_seen": from_epoch(r["first_seen"]),
                 "last_seen": from_epoch(r["last_seen"])} for r in rows]

    def shortlist_rows(self, since: datetime) -> tuple[list[dict[str, Any]],
                                                       list[dict[str, Any]]]:
        """(ideas with at least one vote, their votes) for digests with as_of >= ``since``."""
        ideas = self.db.query(
            """SELECT i.*, d.as_of AS digest_as_of FROM ideas i JOIN digests d
                 ON d.id = i.digest_id
               WHERE d.as_of >= ? AND EXISTS (SELECT 1 FROM votes v WHERE v.idea_id = i.id)
               ORDER BY d.as_of, i.position""", [to_epoch(since)])
        votes = self.db.query(
            """SELECT v.idea_id, v.user_id, v.user_name, v.value, v.voted_at FROM votes v
               JOIN ideas i ON i.id = v.idea_id JOIN digests d ON d.id = i.digest_id
               WHERE d.as_of >= ? ORDER BY v.voted_at, v.rowid""", [to_epoch(since)])
        return [_decode_idea(r) for r in ideas], list(votes)

    def idea_tallies(self, idea_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Vote counts of several ideas at once (every id present, zeros included)."""
        out = {i: {"up": 0, "down": 0, "star": 0} for i in idea_ids}
        if not out:
            return out
        marks = ", ".join("?" for _ in out)
        for idea_id, value, n in self.db.execute(
                f"SELECT idea_id, value, count(*) FROM votes WHERE idea_id IN ({marks})"
                " GROUP BY idea_id, value", list(out)):
            out[idea_id][value] = n
        return out

    def idea_positions(self, idea_ids: Sequence[int]) -> dict[int, int]:
        """idea id -> its position in its digest, for ids that exist."""
        if not idea_ids:
            return {}
        marks = ", ".join("?" for _ in idea_ids)
        return {int(i): int(p) for i, p in self.db.execute(
            f"SELECT id, position FROM ideas WHERE id IN ({marks})", list(idea_ids))}

    def prune_search_index(self) -> int:
        """Drop index rows of deleted items (``prune`` does this itself).

        Index rows are keyed by the item's rowid, which SQLite may hand out again.
        """
        with self.db.atomic():
            return self._prune_search_rows()

    def _prune_search_rows(self) -> int:
        return int(self.db.conn.execute(
            "DELETE FROM items_fts WHERE rowid NOT IN (SELECT rowid FROM items)").rowcount)

    def newest_digest_as_of(self) -> datetime | None:
        row = self.db.execute("SELECT max(as_of) FROM digests").fetchone()
        return from_epoch(row[0]) if row else None

    # -- service: digest delivery, source alerts, retention ------------------------------

    def daily_digest_id(self, as_of: datetime) -> int | None:
        """The scheduled digest made for the slot ``as_of``, if one was already made."""
        row = self.db.execute(
            "SELECT id FROM digests WHERE kind = 'daily' AND as_of = ? ORDER BY id LIMIT 1",
            (to_epoch(as_of),)).fetchone()
        return int(row[0]) if row else None

    def set_new_topics(self, digest_id: int, new_topics: int) -> None:
        with self._writing(f"record digest {digest_id}"):
            self.db.execute("UPDATE digests SET new_topics = ? WHERE id = ?",
                            (new_topics, digest_id))

    def digest_row(self, digest_id: int) -> dict[str, Any] | None:
        return self._first_row("SELECT * FROM digests WHERE id = ?", [digest_id])

    def delivery(self, chat_id: int, day: str) -> dict[str, Any] | None:
        return self._first_row("SELECT * FROM deliveries WHERE chat_id = ? AND day = ?",
                               [chat_id, day])

    def claim_delivery(self, chat_id: int, day: str, digest_id: int | None,
                       at: datetime) -> bool:
        """Record 'sending' for (chat, day) unless a row exists; True when this call claimed it.

        The row is committed before anything is sent, so a crash during the send leaves
        evidence that the digest may have gone out (see schedule.resolve_interrupted).
        """
        with self._writing(f"record the digest of {day} for chat {chat_id}"):
            cursor = self.db.conn.execute(
                "INSERT OR IGNORE INTO deliveries (chat_id, day, digest_id, status, updated_at)"
                " VALUES (?, ?, ?, 'sending', ?)", (chat_id, day, digest_id, to_epoch(at)))
            return cursor.rowcount == 1

    def finish_delivery(self, chat_id: int, day: str, status: str, at: datetime,
                        error: str | None = None) -> None:
        if status not in ("sent", "failed"):
            raise ValueError(f"delivery status {status!r}")
        with self._writing(f"record the digest of {day} for chat {chat_id} as {status}"):
            self.db.execute(
                "UPDATE deliveries SET status = ?, error = ?, updated_at = ?"
                " WHERE chat_id = ? AND day = ?", (status, error, to_epoch(at), chat_id, day))

    def record_missed(self, chat_id: int, day: str, at: datetime, error: str) -> bool:
        """A digest that will never be sent (missed beyond the grace period): 'failed', once."""
        with self._writing(f"record the missed digest of {day}"):
            cursor = self.db.conn.execute(
                "INSERT OR IGNORE INTO deliveries (chat_id, day, status, updated_at, error)"
                " VALUES (?, ?, 'failed', ?, ?)", (chat_id, day, to_epoch(at), error))
            return cursor.rowcount == 1

    def has_deliveries(self) -> bool:
        return self.db.execute("SELECT 1 FROM deliveries LIMIT 1").fetchone() is not None

    def deliveries_with_status(self, status: str) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT * FROM deliveries WHERE status = ? ORDER BY day, chat_id", [status]))

    def source_alert(self, source: str) -> tuple[int, bool]:
        """(consecutive failures, admins told) for a source; (0, False) when never seen."""
        row = self.db.execute("SELECT failures, alerted FROM source_alerts WHERE source = ?",
                              (source,)).fetchone()
        return (int(row[0]), bool(row[1])) if row else (0, False)

    def set_source_alert(self, source: str, failures: int, alerted: bool,
                         error: str | None, at: datetime) -> None:
        with self._writing(f"record the health of source {source}"):
            self.db.execute(
                """INSERT INTO source_alerts (source, failures, alerted, last_error, updated_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT(source) DO UPDATE SET failures = excluded.failures,
                     alerted = excluded.alerted, last_error = excluded.last_error,
                     updated_at = excluded.updated_at""",
                (source, failures, int(alerted), error, to_epoch(at)))

    def prune(self, before: datetime) -> PruneCounts:
        """Delete snapshots seen before ``before`` and items left without any, in one transaction.

        Items that are evidence of an idea (and so of any vote) keep their row and their
        snapshots: the shortlist and a later look at "how did this story develop" need them.
        Ideas, digests, votes and deliveries are small and never pruned. The search index and
        the token cache lose the rows of deleted items in the same transaction: an index row
        left behind would answer /search for the next item that gets the deleted rowid.
        """
        cutoff = to_epoch(before)
        with self._writing(f"prune data older than {before.isoformat()}"):
            self._mark_kept_items()
            snaps = self.db.conn.execute(
                """DELETE FROM snapshots WHERE seen_at < ?
                   AND item_id NOT IN (SELECT id FROM temp.kept_items)""", (cutoff,)).rowcount
            items = self.db.conn.execute(
                """DELETE FROM items WHERE last_seen < ?
                   AND id NOT IN (SELECT id FROM temp.kept_items)
                   AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.item_id = items.id)""",
                (cutoff,)).rowcount
            self.db.execute("DROP TABLE temp.kept_items")
            search_rows = self._prune_search_rows() if items else 0
            # NOT IN builds one temporary index of titles (items.title has none of its own)
            tokens = self.db.conn.execute(
                "DELETE FROM title_tokens WHERE title NOT IN (SELECT title FROM items)"
            ).rowcount if items else 0
        return PruneCounts(snapshots=snaps, items=items, search_rows=search_rows,
                           title_tokens=tokens)

    def _mark_kept_items(self) -> None:
        """temp.kept_items := ids of items named (platform + title) in any idea's evidence."""
        for table in ("kept_items", "kept_titles"):
            self.db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        self.db.execute("CREATE TEMP TABLE kept_titles (platform TEXT, title TEXT,"
                        " PRIMARY KEY (platform, title))")
        self.db.execute(
            """INSERT OR IGNORE INTO temp.kept_titles (platform, title)
               SELECT json_extract(e.value, '$.platform'), json_extract(e.value, '$.title')
               FROM ideas i, json_each(i.items) e""")
        self.db.execute("CREATE TEMP TABLE kept_items (id TEXT PRIMARY KEY)")
        # One pass over items with an index lookup each; evidence records carry no item id.
        self.db.execute(
            """INSERT INTO temp.kept_items (id) SELECT id FROM items WHERE EXISTS
               (SELECT 1 FROM temp.kept_titles k
                WHERE k.platform = items.platform AND k.title = items.title)""")
        self.db.execute("DROP TABLE temp.kept_titles")

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """One transaction; a database error (disk full, locked) becomes a StorageError."""
        try:
            with self.db.atomic():
                yield
        except sqlite3.Error as e:
            raise StorageError(f"cannot {what}: {e}") from e

    def checkpoint(self) -> None:
        """Fold the WAL back into the main file (after a prune), so the file stops growing."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- sources -------------------------------------------------------------------------

    def source_states(self) -> dict[str, SourceState]:
        """Fetch state of every source ever recorded, by name."""
        rows = self.db.execute(
            """SELECT name, kind, etag, last_modified, last_attempt, last_success, last_error,
                      last_error_at, consecutive_failures, next_due, items_total, last_elapsed
               FROM sources""")
        return {r[0]: SourceState(
            name=r[0], kind=r[1], etag=r[2], last_modified=r[3],
            last_attempt=from_epoch(r[4]), last_success=from_epoch(r[5]), last_error=r[6],
            last_error_at=from_epoch(r[7]), consecutive_failures=int(r[8] or 0),
            next_due=from_epoch(r[9]), items_total=int(r[10] or 0), last_elapsed=r[11])
            for r in rows}

    def record_fetch(self, name: str, kind: str, items: Sequence[Item], *, at: datetime,
                     error: str | None, etag: str | None, last_modified: str | None,
                     next_due: datetime, elapsed: float | None = None) -> IngestCounts:
        """One fetch of one source: its items (snapshot + upsert) and its new fetch state, in
        one transaction. ``error`` set means a failure: validators and items are left alone."""
        try:
            with self.db.atomic():
                counts = self._add_items(items) if items and error is None else \
                    IngestCounts(0, 0)
                self._record_source(name, kind, at, error, etag, last_modified, next_due,
                                    counts.items_new, elapsed)
                return counts
        except sqlite3.Error as e:
            raise StorageError(f"cannot record the fetch of {name}: {e}") from e

    def _record_source(self, name: str, kind: str, at: datetime, error: str | None,
                       etag: str | None, last_modified: str | None, next_due: datetime,
                       items_new: int, elapsed: float | None) -> None:
        self.db.execute("INSERT OR IGNORE INTO sources (name, kind) VALUES (?, ?)", (name, kind))
        if error is None:
            self.db.execute(
                """UPDATE sources SET kind = ?, etag = ?, last_modified = ?, last_attempt = ?,
                     last_success = ?, consecutive_failures = 0, next_due = ?,
                     items_total = items_total + ?, last_elapsed = ? WHERE name = ?""",
                (kind, etag, last_modified, to_epoch(at), to_epoch(at), to_epoch(next_due),
                 items_new, elapsed, name))
        else:
            self.db.execute(
                """UPDATE sources SET kind = ?, last_attempt = ?, last_error = ?,
                     last_error_at = ?, consecutive_failures = consecutive_failures + 1,
                     next_due = ?, last_elapsed = ? WHERE name = ?""",
                (kind, to_epoch(at), error, to_epoch(at), to_epoch(next_due), elapsed, name))


def _item_rows(batch: Sequence[Item]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(one ``items`` row per distinct item, one ``snapshots`` row per sighting).

    A batch holds the same item many times (one per fetch): its row carries the newest
    sighting's title and link and the earliest / latest moment it was seen.
    """
    merged: dict[str, tuple[Item, int, int]] = {}
    snapshots = []
    for it in batch:
        iid, seen = it.id, to_epoch(it.seen_at)
        snapshots.append((iid, seen, it.rank, it.heat, int(it.pinned)))
        old = merged.get(iid)
        if old is None:
            merged[iid] = (it, seen, seen)
        else:
            latest = it if seen >= old[2] else old[0]
            merged[iid] = (latest, min(old[1], seen), max(old[2], seen))
    rows = [(i, it.platform, it.title, it.url, it.guid,
             to_epoch(it.published_at) if it.published_at else None, first, last)
            for i, (it, first, last) in merged.items()]
    return rows, snapshots


# SQLite's default limit on bound parameters is 999 (older builds): stay under it.
_SQL_VARS = 900


_JSON_COLUMNS = ("platforms", "terms", "matched", "items")


def _decode_idea(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _JSON_COLUMNS:
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    for key in ("first_seen", "digest_as_of"):
        if isinstance(out.get(key), int):
            out[key] = from_epoch(out[key])
    return out
