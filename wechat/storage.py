"""Shared key-value storage: in this process by default, Redis for several replicas.

De-dup keys, turn outcomes, the access token, its refresh lock and quick-reply menus
all live behind ``KeyValueStore``; the only primitive that must be atomic is
``set_if_absent`` (Redis ``SET NX EX``), which also builds ``store_lock``.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

# Compare-and-delete, so a lock whose TTL ran out is not released by its old owner.
_DELETE_IF_EQUAL = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
# Characters SCAN MATCH reads as a pattern, escaped in a literal prefix.
_GLOB = re.compile(r"[*?\[\]\\]")
# MemoryStore sweeps expired entries once every this many writes.
_SWEEP_EVERY = 1024


class KeyValueStore(Protocol):
    """The storage the channel needs; values are strings, TTLs are seconds."""

    async def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        """Stores ``value`` only when ``key`` is absent; True when it did."""

    async def get(self, key: str) -> str | None:
        """Returns the value, or None when absent or expired."""

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        """Stores ``value``, replacing any earlier one."""

    async def delete_if_equal(self, key: str, value: str) -> bool:
        """Deletes ``key`` only while it still holds ``value``."""

    async def delete_prefix(self, prefix: str) -> int:
        """Deletes every key that starts with ``prefix``; returns how many."""

    async def close(self) -> None:
        """Releases connections."""


class MemoryStore:
    """``KeyValueStore`` in this process: one replica, lost on restart."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
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

    async def delete_if_equal(self, key: str, value: str) -> bool:
        """See ``KeyValueStore``."""
        if self._live(key) == value:
            del self._data[key]
            return True
        return False

    async def delete_prefix(self, prefix: str) -> int:
        """See ``KeyValueStore``."""
        doomed = [key for key in self._data if key.startswith(prefix)]
        live = sum(self._live(key) is not None for key in doomed)
        for key in doomed:
            self._data.pop(key, None)
        return live

    async def close(self) -> None:
        """Nothing to release."""


class RedisStore:
    """``KeyValueStore`` on Redis (``redis.asyncio``), shared by every replica.

    Args:
        client: a ``redis.asyncio.Redis`` created with ``decode_responses=True``.
        prefix: put before every key, so several bots can share one Redis.
    """

    def __init__(self, client: Any, prefix: str = "wechat:") -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "wechat:") -> RedisStore:
        """Connects lazily to ``url`` (``redis://host:port/db``)."""
        import redis.asyncio as redis_asyncio

        client = redis_asyncio.Redis.from_url(url, decode_responses=True)
        return cls(client, prefix)

    async def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        """See ``KeyValueStore``: ``SET key value NX PX ttl``."""
        done = await self._redis.set(
            self._prefix + key, value, nx=True, px=max(1, int(ttl_s * 1000))
        )
        return bool(done)

    async def get(self, key: str) -> str | None:
        """See ``KeyValueStore``."""
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        """See ``KeyValueStore``."""
        px = None if ttl_s is None else max(1, int(ttl_s * 1000))
        await self._redis.set(self._prefix + key, value, px=px)

    async def delete_if_equal(self, key: str, value: str) -> bool:
        """See ``KeyValueStore``: one Lua script, atomic on the server."""
        deleted = await self._redis.eval(_DELETE_IF_EQUAL, 1, self._prefix + key, value)
        return bool(deleted)

    async def delete_prefix(self, prefix: str) -> int:
        """See ``KeyValueStore``: ``SCAN MATCH`` (glob characters escaped), ``DEL``."""
        pattern = _GLOB.sub(r"\\\g<0>", self._prefix + prefix) + "*"
        deleted = 0
        batch: list[str] = []
        async for key in self._redis.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(await self._redis.delete(*batch))
                batch = []
        if batch:
            deleted += int(await self._redis.delete(*batch))
        return deleted

    async def close(self) -> None:
        """Closes the connection pool."""
        await self._redis.close()


def open_store(url: str, prefix: str = "wechat:") -> KeyValueStore:
    """Returns the store named in the settings: ``"memory"`` or a Redis URL."""
    if url == "memory":
        return MemoryStore()
    return RedisStore.from_url(url, prefix)


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
