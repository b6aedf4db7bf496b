"""Shared key-value storage: in this process by default, Redis for several replicas.

De-dup keys, turn outcomes, rate-limit counters, the replay cache, the access token,
its refresh lock and quick-reply menus all live behind ``KeyValueStore``. Its
atomic primitives are ``set_if_absent`` (Redis ``SET NX PX``, which also builds
``store_lock``), ``set_if_absent_or_get`` and ``increment`` (small Lua scripts);
``delete_prefix`` erases everything stored about a user.

Redis is never allowed to stop the channel: ``RedisStore`` calls time out after
``store_timeout_s`` and raise ``StoreError``, and ``FailoverStore`` (what
``open_store`` returns for a Redis URL) then, after one more try for a timeout,
serves the call from this process's memory, logs a warning at most every 30 s
and leaves Redis alone for a few seconds before trying again. Meanwhile de-dup
and rate limits hold per replica only.
The protocol and the two stores that must honour it together (memory, failover)
make this module a little over 300 lines; Redis lives in ``wechat.redis_store``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from telemetry.metrics import STORE_DEGRADED, STORE_FALLBACKS
from wechat.config import DEFAULT_STORE_TIMEOUT_S
from wechat.errors import StoreError, StoreTimeout
from wechat.redis_store import RedisStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = [
    "FailoverStore",
    "KeyValueStore",
    "MemoryStore",
    "RedisStore",
    "open_store",
    "store_lock",
]

# MemoryStore sweeps expired entries once every this many writes.
_SWEEP_EVERY = 1024
# FailoverStore: how long Redis is left alone after a failure (circuit open), and
# how often the outage is logged as a warning.
RETRY_AFTER_S = 5.0
WARN_EVERY_S = 30.0


class KeyValueStore(Protocol):
    """The storage the channel needs; values are strings, TTLs are seconds."""

    async def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        """Stores ``value`` only when ``key`` is absent; True when it did."""

    async def get(self, key: str) -> str | None:
        """Returns the value, or None when absent or expired."""

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        """Stores ``value``, replacing any earlier one."""

    async def set_if_absent_or_get(
        self, key: str, value: str, ttl_s: float
    ) -> str | None:
        """Stores ``value`` when ``key`` is absent (None), else returns its value."""

    async def increment(self, key: str, ttl_s: float) -> int:
        """Adds one to the counter ``key``; the first increment starts its TTL."""

    async def delete_if_equal(self, key: str, value: str) -> bool:
        """Deletes ``key`` only while it still holds ``value``."""

    async def expire_if_equal(self, key: str, value: str, ttl_s: float) -> bool:
        """Gives ``key`` a new TTL only while it still holds ``value`` (a lease)."""

    async def delete_prefix(self, prefix: str) -> int:
        """Deletes every key that starts with ``prefix``; returns how many.

        Raises:
            StoreError: the store could not be reached, so keys may remain.
        """

    async def delete(self, key: str) -> None:
        """Deletes ``key`` (nothing when absent)."""

    async def add_member(self, key: str, member: str) -> None:
        """Adds ``member`` to the set ``key`` (kept until removed)."""

    async def remove_member(self, key: str, member: str) -> None:
        """Removes ``member`` from the set ``key``."""

    async def members(self, key: str) -> frozenset[str]:
        """The members of the set ``key`` (empty when absent)."""

    async def ping(self) -> None:
        """Returns when the store answers (readiness).

        Raises:
            StoreError: it does not answer in time.
        """

    async def close(self) -> None:
        """Releases connections."""


class MemoryStore:
    """``KeyValueStore`` in this process: one replica, lost on restart."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._sets: dict[str, set[str]] = {}
        self._clock = clock
        self._writes = 0

    def _live(self, key: str) -> str | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and expires_at <= self._clock():
            del self._data[key]
            return None
        return value

    def _store(self, key: str, value: str, ttl_s: float | None) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            # Expired keys nobody reads again would otherwise stay forever.
            for stale in list(self._data):
                self._live(stale)
        expires_at = None if ttl_s is None else self._clock() + ttl_s
        self._data[key] = (value, expires_at)

    async def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        """See ``KeyValueStore``; atomic because nothing awaits in between."""
        if self._live(key) is not None:
            return False
        self._store(key, value, ttl_s)
        return True

    async def get(self, key: str) -> str | None:
        """See ``KeyValueStore``."""
        return self._live(key)

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        """See ``KeyValueStore``."""
        self._store(key, value, ttl_s)

    async def set_if_absent_or_get(
        self, key: str, value: str, ttl_s: float
    ) -> str | None:
        """See ``KeyValueStore``; atomic because nothing awaits in between."""
        current = self._live(key)
        if current is None:
            self._store(key, value, ttl_s)
        return current

    async def increment(self, key: str, ttl_s: float) -> int:
        """See ``KeyValueStore``; the TTL runs from the first increment."""
        current = self._live(key)
        if current is None:
            self._store(key, "1", ttl_s)
            return 1
        count = int(current) + 1
        self._data[key] = (str(count), self._data[key][1])
        return count

    async def delete_if_equal(self, key: str, value: str) -> bool:
        """See ``KeyValueStore``."""
        if self._live(key) == value:
            del self._data[key]
            return True
        return False

    async def expire_if_equal(self, key: str, value: str, ttl_s: float) -> bool:
        """See ``KeyValueStore``."""
        if self._live(key) == value:
            self._data[key] = (value, self._clock() + ttl_s)
            return True
        return False

    async def delete_prefix(self, prefix: str) -> int:
        """See ``KeyValueStore``."""
        doomed = [key for key in self._data if key.startswith(prefix)]
        live = sum(self._live(key) is not None for key in doomed)
        for key in doomed:
            self._data.pop(key, None)
        return live

    async def delete(self, key: str) -> None:
        """See ``KeyValueStore``."""
        self._data.pop(key, None)

    async def add_member(self, key: str, member: str) -> None:
        """See ``KeyValueStore``."""
        self._sets.setdefault(key, set()).add(member)

    async def remove_member(self, key: str, member: str) -> None:
        """See ``KeyValueStore``."""
        members = self._sets.get(key)
        if members is not None:
            members.discard(member)
            if not members:
                del self._sets[key]

    async def members(self, key: str) -> frozenset[str]:
        """See ``KeyValueStore``."""
        return frozenset(self._sets.get(key, ()))

    async def ping(self) -> None:
        """Always answers: this process's memory."""

    async def close(self) -> None:
        """Nothing to release."""


class FailoverStore:
    """A store that keeps answering when its primary (Redis) fails or hangs.

    Each call goes to ``primary``; on ``StoreError`` it is served by ``fallback``
    (this process's memory), a warning is logged (at most every ``warn_every_s``)
    and ``primary`` is skipped for ``retry_after_s`` (a circuit breaker), so an
    outage costs one timeout, not one per call. Keys written meanwhile stay in
    memory only; de-dup and rate limits then hold per replica.

    Args:
        primary: the shared store, whose failures are ``StoreError``.
        fallback: where calls go meanwhile; a fresh ``MemoryStore`` by default.
        retry_after_s: how long the primary is left alone after a failure.
        warn_every_s: least time between two warnings.
        clock: monotonic seconds (tests).
    """

    def __init__(
        self,
        primary: KeyValueStore,
        fallback: KeyValueStore | None = None,
        retry_after_s: float = RETRY_AFTER_S,
        warn_every_s: float = WARN_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._fallback = fallback or MemoryStore(clock=clock)
        self._retry_after_s = retry_after_s
        self._warn_every_s = warn_every_s
        self._clock = clock
        self._skip_until = -math.inf
        self._warned_at = -math.inf
        self._failing = False
        self._answered = False

    @property
    def degraded(self) -> bool:
        """True while calls are served from memory (the primary is failing)."""
        return self._failing

    @property
    def answered(self) -> bool:
        """True once the primary has answered a call or a ping since start."""
        return self._answered

    async def _call(
        self, call: Callable[[KeyValueStore], Awaitable[T]], again: bool = True
    ) -> T:
        if self._clock() < self._skip_until:
            STORE_FALLBACKS.inc()
            return await call(self._fallback)
        try:
            try:
                result = await call(self._primary)
            except StoreTimeout:
                if not again:
                    raise
                # Once more before giving up on the store: a process busy past
                # the timeout (a long model call) times out calls Redis answered.
                # Only for calls whose repetition tells the same (or, for the
                # set-if-absent ones, what was stored, which callers compare).
                result = await call(self._primary)
        except StoreError as e:
            self._trip(e)
            STORE_FALLBACKS.inc()
            return await call(self._fallback)
        self._answered = True
        if self._failing:
            self._failing = False
            STORE_DEGRADED.set(0)
            logger.warning("The shared store answers again; back to using it.")
        return result

    def _trip(self, error: StoreError) -> None:
        now = self._clock()
        self._failing = True
        STORE_DEGRADED.set(1)
        self._skip_until = now + self._retry_after_s
        if now - self._warned_at >= self._warn_every_s:
            self._warned_at = now
            logger.warning(
                "Shared store unavailable (%s); serving from this process's memory "
                "and retrying in %g s. De-dup and rate limits hold per replica "
                "meanwhile.",
                error,
                self._retry_after_s,
            )

    async def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        """See ``KeyValueStore``."""
        return await self._call(lambda s: s.set_if_absent(key, value, ttl_s))

    async def get(self, key: str) -> str | None:
        """See ``KeyValueStore``."""
        return await self._call(lambda s: s.get(key))

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        """See ``KeyValueStore``."""
        await self._call(lambda s: s.set(key, value, ttl_s))

    async def set_if_absent_or_get(
        self, key: str, value: str, ttl_s: float
    ) -> str | None:
        """See ``KeyValueStore``."""
        return await self._call(lambda s: s.set_if_absent_or_get(key, value, ttl_s))

    async def increment(self, key: str, ttl_s: float) -> int:
        """See ``KeyValueStore``."""
        # Not repeated after a timeout: an increment that landed would count twice.
        return await self._call(lambda s: s.increment(key, ttl_s), again=False)

    async def delete_if_equal(self, key: str, value: str) -> bool:
        """See ``KeyValueStore``."""
        return await self._call(lambda s: s.delete_if_equal(key, value))

    async def expire_if_equal(self, key: str, value: str, ttl_s: float) -> bool:
        """See ``KeyValueStore``."""
        return await self._call(lambda s: s.expire_if_equal(key, value, ttl_s))

    async def delete_prefix(self, prefix: str) -> int:
        """Deletes from memory and from the primary, which is always asked.

        Raises:
            StoreError: the primary failed; the keys in memory are gone, the
                primary's may remain (erasure must be retried).
        """
        deleted = await self._fallback.delete_prefix(prefix)
        return deleted + await self._primary.delete_prefix(prefix)

    async def delete(self, key: str) -> None:
        """See ``KeyValueStore``."""
        await self._call(lambda s: s.delete(key))

    async def add_member(self, key: str, member: str) -> None:
        """See ``KeyValueStore``."""
        await self._call(lambda s: s.add_member(key, member))

    async def remove_member(self, key: str, member: str) -> None:
        """See ``KeyValueStore``."""
        await self._call(lambda s: s.remove_member(key, member))

    async def members(self, key: str) -> frozenset[str]:
        """See ``KeyValueStore``."""
        return await self._call(lambda s: s.members(key))

    async def ping(self) -> None:
        """Asks the primary only: readiness is about the shared store.

        Raises:
            StoreError: the primary does not answer.
        """
        await self._primary.ping()
        self._answered = True

    async def close(self) -> None:
        """Closes both stores."""
        try:
            await self._primary.close()
        finally:
            await self._fallback.close()


def open_store(
    url: str, prefix: str = "wechat:", timeout_s: float = DEFAULT_STORE_TIMEOUT_S
) -> KeyValueStore:
    """Returns the store named in the settings.

    Args:
        url: ``"memory"`` or a Redis URL (then Redis with failover to memory).
        prefix: put before every Redis key.
        timeout_s: longest wait for one Redis call.
    """
    if url == "memory":
        return MemoryStore()
    return FailoverStore(RedisStore.from_url(url, prefix, timeout_s))


@asynccontextmanager
async def store_lock(
    store: KeyValueStore, key: str, ttl_s: float, poll_s: float = 0.01
) -> AsyncIterator[None]:
    """Holds ``key`` as a lock across every process sharing ``store``.

    Args:
        store: where the lock lives.
        key: the lock's name.
        ttl_s: the lock frees itself after this long (a crashed holder).
        poll_s: how often a waiter tries again.
    """
    owner = uuid.uuid4().hex
    while not await store.set_if_absent(key, owner, ttl_s):
        await asyncio.sleep(poll_s)
    try:
        yield
    finally:
        await store.delete_if_equal(key, owner)
