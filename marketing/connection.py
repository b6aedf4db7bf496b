"""The marketing store, connected on first use and not hammered while it is down.

A :class:`LazyStore` is the store factory that actions and the click server are
given: it connects on the first call, keeps the store, and after a failed
connection fails fast with :class:`StoreUnavailable` for ``retry_after_s``, so
turns do not each wait for a connection timeout while the database is down. Each
time it connects it runs ``on_connect`` (the marketing outbox's replay: writes
queued while the database was down reach it as soon as it is back).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from marketing.store import MarketingStore

# What actions and services are given: makes (or returns) the store.
StoreFactory = Callable[[], MarketingStore]

# After a failed connection, calls skip the database for this long.
RETRY_AFTER_S = 30.0


class StoreUnavailable(RuntimeError):
    """The marketing database failed moments ago; not retried yet."""


class LazyStore:
    """The store at ``url``, connected on first use.

    Args:
        url: The SQLAlchemy database URL.
        retry_after_s: How long a failed connection is not retried.
        clock: Monotonic seconds (injectable for tests).
        connect: Opens the store (``MarketingStore.from_url`` by default).
        on_connect: Runs with the store after each successful connection, outside
            the lock (it must not raise for the database being down again).
    """

    def __init__(
        self,
        url: str,
        retry_after_s: float = RETRY_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        connect: Callable[[str], MarketingStore] = MarketingStore.from_url,
        on_connect: Callable[[MarketingStore], object] | None = None,
    ) -> None:
        self.url = url
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._connect = connect
        self._on_connect = on_connect
        self._lock = threading.Lock()
        self._store: MarketingStore | None = None
        self._failed_at: float | None = None

    def __call__(self) -> MarketingStore:
        """The connected store.

        Raises:
            StoreUnavailable: The database failed less than ``retry_after_s`` ago.
            sqlalchemy.exc.SQLAlchemyError: It cannot be reached now.
        """
        with self._lock:
            self._check_pause()
            if self._store is not None:
                return self._store
            store = self._open()
        if self._on_connect is not None:
            self._on_connect(store)
        return store

    def _check_pause(self) -> None:
        now = self._clock()
        if self._failed_at is not None and now - self._failed_at < self._retry_after_s:
            raise StoreUnavailable(f"marketing store {self.url!r} failed moments ago")

    def _open(self) -> MarketingStore:
        # Under the lock: one connection attempt at a time.
        now = self._clock()
        try:
            self._store = self._connect(self.url)
        except SQLAlchemyError:
            self._failed_at = now
            raise
        self._failed_at = None
        return self._store

    def fail(self) -> None:
        """Treats the database as down for ``retry_after_s``: a call timed out.

        A hung database (connected, never answering) raises nothing; without
        this every later call of the turn would wait for its own timeout.
        """
        with self._lock:
            self._failed_at = self._clock()

    def close(self) -> None:
        """Closes the connections; the next call connects again."""
        with self._lock:
            if self._store is not None:
                self._store.engine.dispose()
            self._store = None
