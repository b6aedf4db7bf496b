"""Key-value stores: in-process and on the local Redis server, same contract."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from wechat.storage import (
    KeyValueStore,
    MemoryStore,
    RedisStore,
    open_store,
    store_lock,
)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    redis_store = RedisStore.from_url(url, prefix)
    yield redis_store
    await redis_store.close()


async def test_set_if_absent_is_first_wins(store: KeyValueStore) -> None:
    assert await store.set_if_absent("k", "a", 10)
    assert not await store.set_if_absent("k", "b", 10)
    assert await store.get("k") == "a"


async def test_concurrent_set_if_absent_has_one_winner(store: KeyValueStore) -> None:
    results = await asyncio.gather(
        *(store.set_if_absent("race", str(i), 10) for i in range(50))
    )
    assert results.count(True) == 1


async def test_ttl_expires(store: KeyValueStore) -> None:
    await store.set("short", "v", 0.05)
    assert await store.set_if_absent("nx-short", "v", 0.05)
    await asyncio.sleep(0.12)
    assert await store.get("short") is None
    assert await store.set_if_absent("nx-short", "again", 10)


async def test_set_without_ttl_and_delete_if_equal(store: KeyValueStore) -> None:
    await store.set("k", "v")
    assert not await store.delete_if_equal("k", "other")
    assert await store.delete_if_equal("k", "v")
    assert await store.get("k") is None


async def test_store_lock_is_mutually_exclusive(store: KeyValueStore) -> None:
    inside = 0
    peak = 0

    async def worker() -> None:
        nonlocal inside, peak
        async with store_lock(store, "lock", ttl_s=5):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.005)
            inside -= 1

    await asyncio.gather(*(worker() for _ in range(10)))
    assert peak == 1
    assert await store.get("lock") is None


def test_open_store() -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    assert isinstance(open_store("redis://127.0.0.1:6379/0"), RedisStore)


async def test_memory_store_sweeps_expired_keys() -> None:
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0])
    for i in range(1000):
        await store.set(f"old{i}", "v", ttl_s=1)
    now[0] = 10.0
    for i in range(100):
        await store.set(f"new{i}", "v", ttl_s=1)
    assert len(store._data) < 200
