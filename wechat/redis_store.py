"""``KeyValueStore`` on Redis, shared by every replica of the channel.

Every call is bounded by the client's socket timeouts (``store_timeout_s``) and every
failure surfaces as ``StoreError``, which ``wechat.storage.FailoverStore`` turns
into a fallback to memory. The atomic operations that need more than one command
are small Lua scripts: one round trip, atomic on the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from wechat.config import DEFAULT_STORE_TIMEOUT_S
from wechat.errors import StoreError, StoreTimeout

T = TypeVar("T")

# Compare-and-delete, so a lock whose TTL ran out is not released by its old owner.
_DELETE_IF_EQUAL = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
# Compare-and-renew: only the lease's holder extends it.
_EXPIRE_IF_EQUAL = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
# Returns the stored value, or stores ARGV[1] and returns nil: one round trip.
_SET_IF_ABSENT_OR_GET = """
local current = redis.call('get', KEYS[1])
if current then
    return current
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""
# INCR, with the TTL set by the first increment (and repaired should a counter
# ever lack one, so no user stays limited for good).
_INCREMENT = """
local count = redis.call('incr', KEYS[1])
if count == 1 or redis.call('pttl', KEYS[1]) == -1 then
    redis.call('pexpire', KEYS[1], ARGV[1])
end
return count
"""
# Keys deleted per DEL while erasing a prefix.
_DELETE_BATCH = 500


class RedisStore:
    """``KeyValueStore`` on Redis (``redis.asyncio``), shared by every replica.

    Every Redis failure, timeouts included, is raised as ``StoreError``.

    Args:
        client: a ``redis.asyncio.Redis`` created with ``decode_responses=True``
            and socket timeouts.
        prefix: put before every key, so several bots can share one Redis.
    """

    def __init__(self, client: Any, prefix: str = "wechat:") -> None:
        from redis.exceptions import RedisError
        from redis.exceptions import TimeoutError as RedisTimeout

        self._redis = client
        self._prefix = prefix
        self._timeouts = (RedisTimeout, asyncio.TimeoutError, TimeoutError)
        self._errors = (RedisError, OSError, asyncio.TimeoutError)

    @classmethod
    def from_url(
        cls,
        url: str,
        prefix: str = "wechat:",
        timeout_s: float = DEFAULT_STORE_TIMEOUT_S,
    ) -> RedisStore:
        """Connects lazily to ``url`` (``redis://host:port/db``).

        Args:
            url: the server.
            prefix: put before every key.
            timeout_s: longest wait to connect, and for each answer.
        """
        import redis.asyncio as redis_asyncio

        client = redis_asyncio.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
        )
        return cls(client, prefix)

    async def _call(self, command: Awaitable[T]) -> T:
        try:
            return await command
        except self._timeouts as e:
            raise StoreTimeout(f"Redis timed out: {type(e).__name__}: {e}") from e
        except self._errors as e:
            raise StoreError(f"Redis failed: {type(e).__name__}: {e}") from e

    async def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        """See ``KeyValueStore``: ``SET key value NX PX ttl``."""
        done = await self._call(
            self._redis.set(self._prefix + key, value, nx=True, px=_ms(ttl_s))
        )
        return bool(done)

    async def get(self, key: str) -> str | None:
        """See ``KeyValueStore``."""
        value = await self._call(self._redis.get(self._prefix + key))
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        """See ``KeyValueStore``."""
        px = None if ttl_s is None else _ms(ttl_s)
        await self._call(self._redis.set(self._prefix + key, value, px=px))

    async def set_if_absent_or_get(
        self, key: str, value: str, ttl_s: float
    ) -> str | None:
        """See ``KeyValueStore``: one Lua script, atomic on the server."""
        current = await self._call(
            self._redis.eval(
                _SET_IF_ABSENT_OR_GET, 1, self._prefix + key, value, _ms(ttl_s)
            )
        )
        return None if current is None else str(current)

    async def increment(self, key: str, ttl_s: float) -> int:
        """See ``KeyValueStore``: INCR and PEXPIRE in one Lua script."""
        count = await self._call(
            self._redis.eval(_INCREMENT, 1, self._prefix + key, _ms(ttl_s))
        )
        return int(count)

    async def delete_if_equal(self, key: str, value: str) -> bool:
        """See ``KeyValueStore``: one Lua script, atomic on the server."""
        deleted = await self._call(
            self._redis.eval(_DELETE_IF_EQUAL, 1, self._prefix + key, value)
        )
        return bool(deleted)

    async def expire_if_equal(self, key: str, value: str, ttl_s: float) -> bool:
        """See ``KeyValueStore``: one Lua script, atomic on the server."""
        renewed = await self._call(
            self._redis.eval(_EXPIRE_IF_EQUAL, 1, self._prefix + key, value, _ms(ttl_s))
        )
        return bool(renewed)

    async def delete_prefix(self, prefix: str) -> int:
        """See ``KeyValueStore``: ``SCAN MATCH`` then ``DEL`` in batches."""
        return await self._call(self._delete_prefix(prefix))

    async def _delete_prefix(self, prefix: str) -> int:
        pattern = _glob_escape(self._prefix + prefix) + "*"
        deleted = 0
        batch: list[str] = []
        async for key in self._redis.scan_iter(match=pattern, count=_DELETE_BATCH):
            batch.append(key)
            if len(batch) >= _DELETE_BATCH:
                deleted += int(await self._redis.delete(*batch))
                batch = []
        if batch:
            deleted += int(await self._redis.delete(*batch))
        return deleted

    async def delete(self, key: str) -> None:
        """See ``KeyValueStore``: ``DEL``."""
        await self._call(self._redis.delete(self._prefix + key))

    async def add_member(self, key: str, member: str) -> None:
        """See ``KeyValueStore``: ``SADD``."""
        await self._call(self._redis.sadd(self._prefix + key, member))

    async def remove_member(self, key: str, member: str) -> None:
        """See ``KeyValueStore``: ``SREM``."""
        await self._call(self._redis.srem(self._prefix + key, member))

    async def members(self, key: str) -> frozenset[str]:
        """See ``KeyValueStore``: ``SMEMBERS``."""
        found = await self._call(self._redis.smembers(self._prefix + key))
        return frozenset(str(member) for member in found)

    async def ping(self) -> None:
        """See ``KeyValueStore``: ``PING``, bounded by the socket timeouts."""
        await self._call(self._redis.ping())

    async def close(self) -> None:
        """Closes the connection pool."""
        await self._redis.close()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _glob_escape(text: str) -> str:
    """``text`` as a literal inside a Redis MATCH pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
