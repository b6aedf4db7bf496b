"""Rasa's ticket lock on Redis, shared by two replicas (threads, each its own store)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid

from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from channels.redis_lock_store import ReplicatedRedisLockStore

TYPE = "channels.redis_lock_store.ReplicatedRedisLockStore"


def replica(redis_url: str) -> ReplicatedRedisLockStore:
    store = LockStore.create(
        EndpointConfig(url="127.0.0.1", type=TYPE, port=6379, db=1)
    )
    assert isinstance(store, ReplicatedRedisLockStore)
    return store


def test_two_replicas_never_hold_one_conversation_at_once(redis_url: str) -> None:
    conversation = f"o_lock_{uuid.uuid4().hex[:8]}"
    holders: list[str] = []
    overlaps: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    served: list[str] = []
    guard = threading.Lock()

    async def turns(name: str, store: ReplicatedRedisLockStore) -> None:
        for index in range(40):
            async with store.lock(conversation, lock_lifetime=30):
                with guard:
                    if holders:
                        overlaps.append((holders[-1], name))
                    holders.append(name)
                await asyncio.sleep(0.002)
                with guard:
                    holders.remove(name)
                    served.append(f"{name}-{index}")

    def run(name: str) -> None:
        try:
            asyncio.run(turns(name, replica(redis_url)))
        except BaseException as e:  # the test reports it
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and overlaps == []
    assert len(served) == 80
    # Nothing is left behind once nobody waits.
    assert replica(redis_url).get_lock(conversation) is None


async def test_an_expired_ticket_of_a_dead_replica_stops_blocking(
    redis_url: str,
) -> None:
    conversation = f"o_lock_{uuid.uuid4().hex[:8]}"
    dead, alive = replica(redis_url), replica(redis_url)
    dead.issue_ticket(conversation, 0.3)  # and never serves nor cleans up
    async with alive.lock(conversation, lock_lifetime=30) as lock:
        assert lock.conversation_id == conversation
    assert alive.get_lock(conversation) is None


async def test_turns_and_queues_longer_than_the_lifetime_keep_their_order(
    redis_url: str,
) -> None:
    conversation = f"o_lock_{uuid.uuid4().hex[:8]}"
    first, second = replica(redis_url), replica(redis_url)
    spans: list[tuple[str, float, float]] = []

    async def turn(store: ReplicatedRedisLockStore, name: str, hold_s: float) -> None:
        async with store.lock(conversation, lock_lifetime=0.3):
            entered = time.monotonic()
            await asyncio.sleep(hold_s)
            spans.append((name, entered, time.monotonic()))

    # The first turn runs 1 s, the others queue as long: all over 0.3 s.
    holder = asyncio.ensure_future(turn(first, "first", 1.0))
    await asyncio.sleep(0.05)
    waiting = asyncio.ensure_future(turn(second, "second", 0.0))
    await asyncio.sleep(0.05)
    late = asyncio.ensure_future(turn(second, "third", 0.0))
    await asyncio.gather(holder, waiting, late)
    assert [name for name, _, _ in spans] == ["first", "second", "third"]
    # One at a time: each turn began after the one before it ended.
    assert all(b[1] >= a[2] for a, b in itertools.pairwise(spans))
