"""The per-user rate limit, in memory and shared through the real Redis."""

from __future__ import annotations

import asyncio

from wechat.erasure import erase_openid
from wechat.rate_limit import RateLimiter, Verdict, rate_key
from wechat.storage import KeyValueStore, MemoryStore, RedisStore

ALLOWED, FIRST, LIMITED = Verdict.ALLOWED, Verdict.LIMITED_FIRST, Verdict.LIMITED


async def test_the_first_message_over_the_limit_is_told_the_rest_are_not(
    store: KeyValueStore,
) -> None:
    limiter = RateLimiter(store, limit=3, window_s=60, namespace="wx1")
    verdicts = [await limiter.check("o1") for _ in range(6)]
    assert verdicts == [ALLOWED, ALLOWED, ALLOWED, FIRST, LIMITED, LIMITED]
    assert await limiter.check("o2") is ALLOWED


async def test_a_new_window_starts_after_the_window(store: KeyValueStore) -> None:
    limiter = RateLimiter(store, limit=1, window_s=0.2, namespace="wx1")
    assert [await limiter.check("o1") for _ in range(2)] == [ALLOWED, FIRST]
    await asyncio.sleep(0.3)
    assert await limiter.check("o1") is ALLOWED


async def test_zero_turns_the_limit_off() -> None:
    store = MemoryStore()
    limiter = RateLimiter(store, limit=0, window_s=60, namespace="wx1")
    assert {await limiter.check("o1") for _ in range(50)} == {ALLOWED}
    assert store._data == {}


async def test_the_counter_lies_under_the_users_prefix_and_is_erased_with_it(
    store: KeyValueStore,
) -> None:
    limiter = RateLimiter(store, limit=1, window_s=60, namespace="wx1")
    await limiter.check("o1")
    await limiter.check("o12")
    assert rate_key("wx1", "o1") == "wx1:u:o1:rate"
    assert await store.get("wx1:u:o1:rate") == "1"
    assert await erase_openid(store, "wx1", "o1") == 1
    assert await store.get("wx1:u:o12:rate") == "1"
    assert await limiter.check("o1") is ALLOWED


async def test_replicas_share_the_limit_through_redis(
    redis_url: str, redis_prefix: str
) -> None:
    stores = [RedisStore.from_url(redis_url, redis_prefix) for _ in range(2)]
    limiters = [RateLimiter(s, limit=4, window_s=60, namespace="wx1") for s in stores]
    try:
        verdicts = await asyncio.gather(
            *(limiters[i % 2].check("o1") for i in range(8))
        )
        assert sorted(v.value for v in verdicts) == sorted(
            [ALLOWED.value] * 4 + [FIRST.value] + [LIMITED.value] * 3
        )
    finally:
        for s in stores:
            await s.close()


async def test_retries_of_a_counted_message_pass_without_counting() -> None:
    limiter = RateLimiter(MemoryStore(), 2, 60, "wx1")
    assert await limiter.check("o1", "msg:1") is ALLOWED
    # WeChat resends msg:1 twice: not counted, not limited.
    assert await limiter.check("o1", "msg:1") is ALLOWED
    assert await limiter.check("o1", "msg:1") is ALLOWED
    assert await limiter.check("o1", "msg:2") is ALLOWED
    assert await limiter.check("o1", "msg:3") is FIRST


async def test_a_retry_of_a_limited_message_stays_limited() -> None:
    limiter = RateLimiter(MemoryStore(), 1, 60, "wx1")
    assert await limiter.check("o1", "msg:1") is ALLOWED
    assert await limiter.check("o1", "msg:2") is FIRST
    assert await limiter.check("o1", "msg:2") is FIRST
    assert await limiter.check("o1", "msg:3") is Verdict.LIMITED
    assert await limiter.check("o1", "msg:3") is Verdict.LIMITED
