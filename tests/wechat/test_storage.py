"""Key-value stores: in memory, on the local Redis and behind failover: one contract."""

from __future__ import annotations

import asyncio

from wechat.storage import (
    FailoverStore,
    KeyValueStore,
    MemoryStore,
    RedisStore,
    open_store,
    store_lock,
)


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


async def test_a_lease_is_renewed_only_by_its_holder(store: KeyValueStore) -> None:
    assert await store.set_if_absent("lease", "a", 0.1)
    assert not await store.expire_if_equal("lease", "b", 10)
    assert await store.expire_if_equal("lease", "a", 10)
    await asyncio.sleep(0.2)
    assert await store.get("lease") == "a"  # renewed past its first TTL
    assert not await store.expire_if_equal("absent", "a", 10)


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


async def test_set_if_absent_or_get_returns_the_first_value(
    store: KeyValueStore,
) -> None:
    assert await store.set_if_absent_or_get("k", "a", 10) is None
    assert await store.set_if_absent_or_get("k", "b", 10) == "a"
    assert await store.get("k") == "a"
    results = await asyncio.gather(
        *(store.set_if_absent_or_get("race", str(i), 10) for i in range(30))
    )
    assert results.count(None) == 1
    assert len({r for r in results if r is not None}) == 1


async def test_set_if_absent_or_get_expires(store: KeyValueStore) -> None:
    assert await store.set_if_absent_or_get("k", "a", 0.05) is None
    await asyncio.sleep(0.12)
    assert await store.set_if_absent_or_get("k", "b", 10) is None


async def test_increment_counts_atomically_within_its_ttl(
    store: KeyValueStore,
) -> None:
    counts = await asyncio.gather(*(store.increment("n", 0.3) for _ in range(20)))
    assert sorted(counts) == list(range(1, 21))
    # Later increments do not extend the window the first one started.
    await asyncio.sleep(0.2)
    assert await store.increment("n", 0.3) == 21
    await asyncio.sleep(0.15)
    assert await store.increment("n", 0.3) == 1


async def test_delete_prefix_deletes_exactly_the_prefix(store: KeyValueStore) -> None:
    for key in ["wx:u:o1:a", "wx:u:o1:b", "wx:u:o12:a", "wx:u:o2:a", "other"]:
        await store.set(key, "v", 10)
    await store.increment("wx:u:o1:rate", 10)
    assert await store.delete_prefix("wx:u:o1:") == 3
    assert await store.get("wx:u:o1:a") is None
    assert await store.get("wx:u:o12:a") == "v"
    assert await store.get("wx:u:o2:a") == "v"
    assert await store.get("other") == "v"
    assert await store.delete_prefix("wx:u:o1:") == 0


async def test_delete_prefix_reads_glob_characters_literally(
    store: KeyValueStore,
) -> None:
    await store.set("a*[b]?\\c", "v")
    await store.set("axyz", "v")
    # As globs these would match both keys.
    assert await store.delete_prefix("a?") == 0
    assert await store.delete_prefix("[a]") == 0
    assert await store.delete_prefix("a*[b]?\\") == 1
    assert await store.get("axyz") == "v"


async def test_delete_prefix_in_redis_spans_several_batches(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore.from_url(redis_url, redis_prefix)
    try:
        for i in range(1200):
            await store.set(f"u:o1:{i}", "v", 60)
        assert await store.delete_prefix("u:o1:") == 1200
    finally:
        await store.close()


async def test_redis_increment_repairs_a_counter_without_ttl(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore.from_url(redis_url, redis_prefix)
    try:
        await store.set("n", "5")
        assert await store.increment("n", 0.1) == 6
        await asyncio.sleep(0.2)
        assert await store.get("n") is None
    finally:
        await store.close()


def test_open_store() -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    assert isinstance(open_store("redis://127.0.0.1:6379/0"), FailoverStore)


async def test_memory_store_sweeps_expired_keys() -> None:
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0])
    for i in range(1000):
        await store.set(f"old{i}", "v", ttl_s=1)
    now[0] = 10.0
    for i in range(100):
        await store.set(f"new{i}", "v", ttl_s=1)
    assert len(store._data) < 200


async def test_ping_answers_while_the_store_does(store: KeyValueStore) -> None:
    await store.ping()
    await store.set("after-ping", "1", 60)
    assert await store.get("after-ping") == "1"


async def test_sets_and_delete(store: KeyValueStore) -> None:
    assert await store.members("s") == frozenset()
    await store.add_member("s", "a")
    await store.add_member("s", "b")
    await store.add_member("s", "a")
    assert await store.members("s") == {"a", "b"}
    await store.remove_member("s", "a")
    await store.remove_member("s", "absent")
    assert await store.members("s") == {"b"}
    await store.set("k", "v", 60)
    await store.delete("k")
    await store.delete("never-set")
    assert await store.get("k") is None
