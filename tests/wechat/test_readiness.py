"""The readiness probe's decision: the agent, and the store really asked."""

from __future__ import annotations

import socket

from tests.faults import TcpProxy
from wechat.readiness import check_readiness
from wechat.storage import FailoverStore, MemoryStore, RedisStore

TIMEOUT_S = 0.3


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_ready_with_a_loaded_agent_and_the_store_in_memory() -> None:
    readiness = await check_readiness(True, MemoryStore())
    assert readiness.ready
    assert readiness.to_json() == {"status": "ready"}


async def test_not_ready_before_the_model_is_loaded() -> None:
    readiness = await check_readiness(False, MemoryStore())
    assert not readiness.ready
    assert readiness.to_json() == {
        "status": "not ready",
        "problems": ["agent: no model loaded yet"],
    }


async def test_not_ready_when_redis_never_answered() -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    store = FailoverStore(RedisStore.from_url(url, "test:", TIMEOUT_S))
    try:
        # The channel still answers from memory, yet a new replica must wait.
        assert await store.get("k") is None
        readiness = await check_readiness(True, store)
    finally:
        await store.close()
    assert not readiness.ready
    assert readiness.problems == ["store: does not answer"]
    assert url not in str(readiness.to_json())  # no host for whoever asks


async def test_an_outage_after_start_leaves_the_replica_ready_but_degraded(
    redis_proxy: TcpProxy, redis_prefix: str
) -> None:
    url = redis_proxy.url_for("redis", "/0")
    store = FailoverStore(RedisStore.from_url(url, redis_prefix, TIMEOUT_S))
    try:
        assert (await check_readiness(True, store)).ready
        redis_proxy.stop()
        readiness = await check_readiness(True, store)
        assert readiness.ready
        assert readiness.to_json() == {
            "status": "ready",
            "degraded": ["store: does not answer; serving from memory"],
        }
        redis_proxy.start()
        assert (await check_readiness(True, store)).to_json() == {"status": "ready"}
    finally:
        await store.close()


async def test_a_plain_redis_store_that_fails_is_not_ready(
    redis_proxy: TcpProxy, redis_prefix: str
) -> None:
    url = redis_proxy.url_for("redis", "/0")
    store = RedisStore.from_url(url, redis_prefix, TIMEOUT_S)
    try:
        await store.ping()
        redis_proxy.stop()
        assert not (await check_readiness(True, store)).ready
    finally:
        await store.close()
