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
    # The contract, not latency: a loaded CI machine must not turn a slow call
    # into a failover (timeouts have their own tests, test_storage_faults.py).
    redis_store: KeyValueStore = RedisStore.from_url(url, prefix, timeout_s=5.0)
    if request.param == "failover":
        redis_store = FailoverStore(redis_store)
    yield redis_store
    await redis_store.close()
