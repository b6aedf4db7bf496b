"""The store with Redis really unavailable: stopped (refused) and hung (no answer).

``redis_proxy`` (``tests/faults.py``) is a real TCP proxy in front of the local
Redis; stopping or hanging it is what a Redis outage looks like to the client.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from prometheus_client import REGISTRY

from tests.faults import TcpProxy
from wechat.errors import StoreError, StoreTimeout
from wechat.storage import FailoverStore, RedisStore

TIMEOUT_S = 0.3


def proxied(proxy: TcpProxy, prefix: str) -> RedisStore:
    return RedisStore.from_url(proxy.url_for("redis", "/0"), prefix, TIMEOUT_S)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "wechat.storage" and r.levelno == logging.WARNING
    ]


@pytest.mark.parametrize("fault", ["stop", "hang"])
async def test_redis_store_fails_fast_with_a_typed_error(
    redis_proxy: TcpProxy, redis_prefix: str, fault: str
) -> None:
    store = proxied(redis_proxy, redis_prefix)
    try:
        await store.set("k", "v", 60)
        getattr(redis_proxy, fault)()
        started = time.monotonic()
        with pytest.raises(StoreError):
            await store.get("k")
        assert time.monotonic() - started < 3 * TIMEOUT_S
    finally:
        await store.close()


@pytest.mark.parametrize("fault", ["stop", "hang"])
async def test_failover_answers_from_memory_warns_and_goes_back(
    redis_proxy: TcpProxy,
    redis_url: str,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    store = FailoverStore(proxied(redis_proxy, redis_prefix), retry_after_s=0.5)
    direct = RedisStore.from_url(redis_url, redis_prefix)
    try:
        assert await store.set_if_absent("before", "1", 60)
        assert await direct.get("before") == "1"
        getattr(redis_proxy, fault)()
        caplog.set_level(logging.INFO)
        started = time.monotonic()
        # A message and its retry: the retry is still recognised, in memory.
        assert await store.set_if_absent("claim", "1", 60)
        assert not await store.set_if_absent("claim", "1", 60)
        assert await store.increment("rate", 60) == 1
        assert await store.set_if_absent_or_get("replay", "h", 60) is None
        # A timeout and its one retry at most, then Redis is skipped (circuit
        # open).
        assert time.monotonic() - started < 3 * TIMEOUT_S
        assert store.degraded
        [warning] = warnings_of(caplog)
        assert "memory" in warning.getMessage()
        assert await direct.get("claim") is None

        redis_proxy.start()
        await asyncio.sleep(0.6)
        assert await store.set_if_absent("after", "1", 60)
        assert not store.degraded
        assert await direct.get("after") == "1"
        assert "answers again" in caplog.text
    finally:
        await store.close()
        await direct.close()


async def test_the_outage_warning_comes_at_most_every_30_s(
    redis_proxy: TcpProxy, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    store = FailoverStore(
        proxied(redis_proxy, redis_prefix), retry_after_s=5, clock=lambda: now[0]
    )
    redis_proxy.stop()
    caplog.set_level(logging.WARNING)
    try:
        for _ in range(8):  # 8 failures, 6 s apart: 42 s of outage
            assert await store.get("k") is None
            now[0] += 6
        assert len(warnings_of(caplog)) == 2
    finally:
        await store.close()


async def test_delete_prefix_says_when_redis_keys_may_remain(
    redis_proxy: TcpProxy, redis_url: str, redis_prefix: str
) -> None:
    store = FailoverStore(proxied(redis_proxy, redis_prefix))
    direct = RedisStore.from_url(redis_url, redis_prefix)
    try:
        await store.set("wx:u:o1:menu", "{}", 60)
        redis_proxy.stop()
        await store.set("wx:u:o1:rate", "1", 60)  # lands in memory
        with pytest.raises(StoreError):
            await store.delete_prefix("wx:u:o1:")
        assert await store.get("wx:u:o1:rate") is None
        redis_proxy.start()
        assert await direct.get("wx:u:o1:menu") == "{}"
        assert await store.delete_prefix("wx:u:o1:") == 1
        assert await direct.get("wx:u:o1:menu") is None
    finally:
        await store.close()
        await direct.close()


async def test_failover_shows_in_the_metrics_and_its_ping_asks_redis(
    redis_proxy: TcpProxy, redis_prefix: str
) -> None:
    store = FailoverStore(proxied(redis_proxy, redis_prefix), retry_after_s=60)
    before = REGISTRY.get_sample_value("aurora_store_fallbacks_total") or 0.0
    try:
        await store.ping()
        redis_proxy.stop()
        assert await store.get("k") is None  # fails over (one timeout)
        assert await store.get("k") is None  # circuit open: memory at once
        assert REGISTRY.get_sample_value("aurora_store_fallbacks_total") == before + 2
        assert REGISTRY.get_sample_value("aurora_store_degraded") == 1
        # Readiness asks Redis itself, whatever the circuit says.
        with pytest.raises(StoreError):
            await store.ping()
        redis_proxy.start()
        await store.ping()
    finally:
        await store.close()


async def test_one_late_answer_is_tried_again_before_failing_over(
    redis_url: str, redis_prefix: str
) -> None:
    """A process busy past the timeout (a long model call) sees Redis time out."""
    redis = RedisStore.from_url(redis_url, redis_prefix)

    class LateOnce:
        late = True

        def __getattr__(self, name: str) -> object:
            return getattr(redis, name)

        async def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
            if self.late:
                self.late = False
                raise StoreTimeout("Redis timed out: the loop was busy")
            return await redis.set_if_absent(key, value, ttl_s)

    store = FailoverStore(LateOnce())  # type: ignore[arg-type]
    try:
        assert await store.set_if_absent("claim", "1", 60)
        assert not store.degraded
        assert await redis.get("claim") == "1"
    finally:
        await redis.close()
