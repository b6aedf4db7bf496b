"""Fixtures of the WeChat protocol tests: one store of each kind."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from wechat.storage import FailoverStore, KeyValueStore, MemoryStore, RedisStore


@pytest.fixture(params=["memory", "redis", "failover"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    """In memory, on the local Redis (a unique prefix), and Redis with failover."""
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    redis_store: KeyValueStore = RedisStore.from_url(url, prefix)
    if request.param == "failover":
        redis_store = FailoverStore(redis_store)
    yield redis_store
    await redis_store.close()
