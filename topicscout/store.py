"""The one module that speaks SQL.

SQLite through sqlite-utils, WAL mode, schema changes as named migrations recorded in the
database (``_sqlite_migrations``). Times are stored as integer Unix seconds (UTC) so they
compare and index as numbers, never as formatted text. Every multi-row write is one
transaction (``db.atomic()``): a crash leaves either all of it or none of it.
"""

from __future__ import annotations

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

    @classmethod
    def memory(cls) -> Store:
        db = sqlite_utils.Database(memory=True)
        migrations.apply(db)
        return cls(db, None)

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
        conn = self.db.conn
        before_items = self._count("items")
        before_snaps = self._count("snapshots")
        conn.executemany(
            """INSERT INTO items (id, platform, title, url, guid, published_at, first_seen,
                                  last_seen)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(id) DO UPDATE SET
                 first_seen = min(first_seen, excluded.first_seen),
                 last_seen = max(last_seen, excluded.last_seen),
                 title = CASE WHEN excluded.last_seen >= last_seen THEN excluded.title
                              ELSE title END,
                 url = CASE WHEN excluded.last_seen >= last_seen
                            THEN coalesce(excluded.url, url) ELSE coalesce(url, excluded.url)
                       END""",
            [(it.id, it.platform, it.title, it.url, it.guid,
              to_epoch(it.published_at) if it.published_at else None,
              to_epoch(it.seen_at), to_epoch(it.seen_at)) for it in batch],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO snapshots (item_id, seen_at, rank, heat, pinned)"
            " VALUES (?, ?, ?, ?, ?)",
            [(it.id, to_epoch(it.seen_at), it.rank, it.heat, int(it.pinned)) for it in batch],
        )
        return IngestCounts(self._count("items") - before_items,
                            self._count("snapshots") - before_snaps)

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
        rows = list(self.db.query("SELECT * FROM ideas WHERE id = ?", [idea_id]))
        return _decode_idea(rows[0]) if rows else None

    def digest_ideas(self, digest_id: int) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM ideas WHERE digest_id = ? ORDER BY position",
                             [digest_id])
        return [_decode_idea(r) for r in rows]

    def latest_digest(self, kind: str | None = None) -> dict[str, Any] | None:
        where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
        rows = list(self.db.query(
            f"SELECT * FROM digests {where} ORDER BY as_of DESC, id DESC LIMIT 1", params))
        return rows[0] if rows else None

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
        counts = {"up": 0, "down": 0, "star": 0}
        for value, n in self.db.execute(
                "SELECT value, count(*) FROM votes WHERE idea_id = ? GROUP BY value", (idea_id,)):
            counts[value] = n
        return counts

    def voted_ideas(self, since: datetime) -> list[dict[str, Any]]:
        """Ideas from digests since ``since`` with their vote counts and voters (for shortlists)."""
        rows = self.db.query(
            """SELECT i.*, d.as_of AS digest_as_of,
                 coalesce(sum(v.value = 'up'), 0) AS up,
                 coalesce(sum(v.value = 'down'), 0) AS down,
                 coalesce(sum(v.value = 'star'), 0) AS star,
                 group_concat(coalesce(v.user_name, v.user_id) || ':' || v.value, ', ') AS voters
               FROM ideas i JOIN digests d ON d.id = i.digest_id
               LEFT JOIN votes v ON v.idea_id = i.id
               WHERE d.as_of >= ?
               GROUP BY i.id""",
            [to_epoch(since)])
        return [_decode_idea(r) for r in rows]

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
        added, removed = [], []
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

    # -- trends (issue 4) ----------------------------------------------------------------

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
