"""A durable queue in a SQLite file: entries stay until they are handled.

Used where losing work is not an option while a dependency is down: leads,
opt-outs and consents while the marketing database is unreachable, and
customer-service messages WeChat refused to take. ``put`` commits (``synchronous
= FULL``) before it returns, so an entry survives a crash of the process; ``due``
hands out entries whose time has come, oldest first; ``done`` removes one and
``retry_later`` pushes it back with its error. Every call opens its own
connection, so threads (``asyncio.to_thread``) and processes may share the file.
Standard library only.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

# How long a writer waits for another writer's lock on the file.
BUSY_TIMEOUT_S = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    user_id TEXT,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    next_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS entries_next_at ON entries (next_at);
CREATE INDEX IF NOT EXISTS entries_user_id ON entries (user_id);
"""


class _Result(NamedTuple):
    rowcount: int
    lastrowid: int | None
    rows: list[Any]


class QueueError(RuntimeError):
    """The queue's file cannot be written (disk full, no permission, corrupt)."""


@dataclass(frozen=True)
class Entry:
    """One queued piece of work."""

    id: int
    kind: str
    user_id: str | None
    payload: dict[str, Any]
    created_at: float
    attempts: int
    last_error: str | None


class DurableQueue:
    """Entries in the SQLite file at ``path`` (created with its folder).

    Args:
        path: The file; several queues may share it (``kind`` tells them apart).
        clock: Wall-clock seconds (injectable for tests).
    """

    def __init__(
        self, path: str | Path, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as connection:
                connection.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise QueueError(f"cannot open the queue file {self.path}: {e}") from e

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            with connection:  # one transaction, committed on success
                yield connection
        finally:
            connection.close()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> _Result:
        try:
            with self._connect() as connection:
                cursor = connection.execute(sql, params)
                return _Result(cursor.rowcount, cursor.lastrowid, cursor.fetchall())
        except sqlite3.Error as e:
            raise QueueError(f"queue {self.path}: {e}") from e

    def put(
        self,
        kind: str,
        payload: Mapping[str, Any],
        user_id: str | None = None,
        delay_s: float = 0.0,
    ) -> int:
        """Stores an entry durably; returns its id.

        Raises:
            QueueError: It could not be stored (the caller must not report success).
        """
        now = self._clock()
        result = self._run(
            "INSERT INTO entries (kind, user_id, payload, created_at, next_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                kind,
                user_id,
                json.dumps(dict(payload), ensure_ascii=False),
                now,
                now + delay_s,
            ),
        )
        return int(result.lastrowid or 0)

    def put_many(
        self, kind: str, items: Iterable[tuple[Mapping[str, Any], str | None]]
    ) -> int:
        """Stores ``(payload, user_id)`` entries durably in one transaction.

        One commit (one ``fsync``) for a whole batch, where :meth:`put` pays one
        per entry: what a writer needs that sets aside hundreds of entries at once.

        Returns:
            How many were stored.

        Raises:
            QueueError: None could be stored (all or nothing).
        """
        now = self._clock()
        rows = [
            (kind, user_id, json.dumps(dict(payload), ensure_ascii=False), now, now)
            for payload, user_id in items
        ]
        try:
            with self._connect() as connection:
                connection.executemany(
                    "INSERT INTO entries (kind, user_id, payload, created_at, next_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.Error as e:
            raise QueueError(f"queue {self.path}: {e}") from e
        return len(rows)

    def due(
        self,
        limit: int = 100,
        kind: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[Entry]:
        """Entries whose time has come, oldest first.

        Args:
            limit: At most this many.
            kind: Only entries of this kind.
            kinds: Only entries of these kinds: the users of a shared file each
                read their own, so one's backlog never hides another's entries.
        """
        sql = (
            "SELECT id, kind, user_id, payload, created_at, attempts, last_error"
            " FROM entries WHERE next_at <= ?"
        )
        params: list[Any] = [self._clock()]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if kinds is not None:
            sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
            params.extend(kinds)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        return [
            Entry(
                id=int(r[0]),
                kind=str(r[1]),
                user_id=r[2],
                payload=json.loads(r[3]),
                created_at=float(r[4]),
                attempts=int(r[5]),
                last_error=r[6],
            )
            for r in self._run(sql, params).rows
        ]

    def done(self, entry_id: int) -> None:
        """Removes a handled entry."""
        self._run("DELETE FROM entries WHERE id = ?", (entry_id,))

    def done_many(self, entry_ids: Sequence[int]) -> None:
        """Removes handled entries in one transaction."""
        try:
            with self._connect() as connection:
                connection.executemany(
                    "DELETE FROM entries WHERE id = ?", [(i,) for i in entry_ids]
                )
        except sqlite3.Error as e:
            raise QueueError(f"queue {self.path}: {e}") from e

    def retry_later(self, entry_id: int, delay_s: float, error: str) -> None:
        """Puts an entry back for ``delay_s``, counting the attempt and its error."""
        self._run(
            "UPDATE entries SET next_at = ?, attempts = attempts + 1, last_error = ?"
            " WHERE id = ?",
            (self._clock() + delay_s, error[:500], entry_id),
        )

    def pending(self, kind: str | None = None) -> int:
        """How many entries wait (due or not)."""
        if kind is None:
            result = self._run("SELECT COUNT(*) FROM entries")
        else:
            result = self._run("SELECT COUNT(*) FROM entries WHERE kind = ?", (kind,))
        return int(result.rows[0][0])

    def erase_user(self, user_id: str) -> int:
        """Deletes every entry of ``user_id`` (a data-deletion request); the count."""
        return self._run("DELETE FROM entries WHERE user_id = ?", (user_id,)).rowcount
