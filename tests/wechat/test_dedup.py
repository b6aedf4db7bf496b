"""Claims and decisions: one turn per message, one outcome for every try."""

from __future__ import annotations

import asyncio

import pytest

from wechat.dedup import API, EMPTY, Deduplicator, message_key, passive, passive_xml
from wechat.storage import KeyValueStore, MemoryStore, RedisStore


def test_message_keys() -> None:
    assert message_key({"MsgType": "text", "MsgId": "42"}) == "msg:42"
    event = {"MsgType": "event", "FromUserName": "o1", "CreateTime": "17", "MsgID": "9"}
    assert message_key(event) == "evt:o1:17::"
    click = {**event, "Event": "CLICK", "EventKey": "MENU_STORE"}
    assert message_key(click) == "evt:o1:17:click:MENU_STORE"
    assert message_key({**click, "EventKey": "MENU_HUMAN"}) != message_key(click)


def test_passive_decisions_carry_their_xml() -> None:
    assert passive_xml(passive("<xml/>")) == "<xml/>"
    assert passive_xml(API) is None and passive_xml(EMPTY) is None


async def test_only_the_first_claim_wins_and_the_first_decision_sticks() -> None:
    dedup = Deduplicator(MemoryStore(), 60, "wx1")
    claims = await asyncio.gather(*(dedup.claim("o1", "msg:1") for _ in range(3)))
    assert claims.count(True) == 1
    assert await dedup.decide("o1", "msg:1", passive("<a/>")) == passive("<a/>")
    assert await dedup.decide("o1", "msg:1", API) == passive("<a/>")
    assert await dedup.wait("o1", "msg:1", 0) == passive("<a/>")


async def test_local_waiters_wake_when_the_decision_is_made() -> None:
    dedup = Deduplicator(MemoryStore(), 60, "wx1")
    assert await dedup.claim("o1", "msg:2")
    waiter = asyncio.ensure_future(dedup.wait("o1", "msg:2", 5))
    await asyncio.sleep(0.01)
    await dedup.decide("o1", "msg:2", API)
    assert await asyncio.wait_for(waiter, 1) == API


async def test_a_decided_key_answers_at_once() -> None:
    dedup = Deduplicator(MemoryStore(), 60, "wx1")
    assert await dedup.claim("o1", "msg:4")
    await dedup.decide("o1", "msg:4", API)
    # A retry of a decided message does not wait (an hour's timeout would show).
    assert await dedup.wait("o1", "msg:4", 3600) == API
    other = Deduplicator(dedup_store := MemoryStore(), 60, "wx1")
    assert await other.claim("o1", "msg:5")
    await other.decide("o1", "msg:5", API)
    replica = Deduplicator(dedup_store, 60, "wx1")  # no local future: reads the store
    assert await replica.wait("o1", "msg:5", 3600) == API


async def test_wait_gives_none_at_its_timeout() -> None:
    dedup = Deduplicator(MemoryStore(), 60, "wx1")
    assert await dedup.claim("o1", "msg:3")
    assert await dedup.wait("o1", "msg:3", 0.05) is None


@pytest.fixture
async def redis_pair(redis_url: str, redis_prefix: str) -> list[KeyValueStore]:
    return [RedisStore.from_url(redis_url, redis_prefix) for _ in range(2)]


async def test_replicas_sharing_redis(redis_pair: list[KeyValueStore]) -> None:
    replica_a = Deduplicator(redis_pair[0], 60, "wx1")
    replica_b = Deduplicator(redis_pair[1], 60, "wx1")
    assert await replica_a.claim("o1", "msg:9")
    assert not await replica_b.claim("o1", "msg:9")
    waiter = asyncio.ensure_future(replica_b.wait("o1", "msg:9", 2))
    await asyncio.sleep(0.1)
    await replica_a.decide("o1", "msg:9", passive("<xml>hi</xml>"))
    assert await waiter == passive("<xml>hi</xml>")
    for store in redis_pair:
        await store.close()


async def test_a_replica_whose_deadline_comes_first_decides_api(
    redis_pair: list[KeyValueStore],
) -> None:
    replica_a = Deduplicator(redis_pair[0], 60, "wx1")
    replica_b = Deduplicator(redis_pair[1], 60, "wx1")
    assert await replica_a.claim("o1", "msg:10")
    assert await replica_b.wait("o1", "msg:10", 0.1) is None
    assert await replica_b.decide("o1", "msg:10", API) == API
    # The owner's turn ends later: it learns that the replies go through the API.
    assert await replica_a.decide("o1", "msg:10", passive("<late/>")) == API
    for store in redis_pair:
        await store.close()


async def test_a_held_lease_outlives_its_ttl_and_ends_done(
    redis_pair: list[KeyValueStore],
) -> None:
    replica_a = Deduplicator(redis_pair[0], 60, "wx1", lease_s=0.3)
    replica_b = Deduplicator(redis_pair[1], 60, "wx1", lease_s=0.3)
    assert await replica_a.claim("o1", "msg:20")
    async with replica_a.hold("o1", "msg:20"):
        # Several leases long: the holder renews it, nobody takes it over.
        await asyncio.sleep(1.0)
        assert not await replica_b.abandoned("o1", "msg:20")
        assert not await replica_b.claim("o1", "msg:20")
    await asyncio.sleep(0.5)
    # Over: the claim stays (done) for the de-dup TTL, never taken over.
    assert not await replica_b.abandoned("o1", "msg:20")
    assert not await replica_b.claim("o1", "msg:20")
    for store in redis_pair:
        await store.close()


async def test_a_waiting_try_takes_over_the_turn_of_a_dead_replica(
    redis_pair: list[KeyValueStore],
) -> None:
    dead = Deduplicator(redis_pair[0], 60, "wx1", lease_s=0.3)
    survivor = Deduplicator(redis_pair[1], 60, "wx1", lease_s=0.3)
    assert await dead.claim("o1", "msg:21")  # and never renews: it died
    taken: list[str] = []

    def take_over() -> None:
        taken.append("msg:21")
        # The turn now runs here and decides.
        asyncio.get_running_loop().call_later(
            0.05,
            lambda: asyncio.ensure_future(
                survivor.decide("o1", "msg:21", passive("<xml>late</xml>"))
            ),
        )

    decision = await survivor.wait("o1", "msg:21", 3.0, on_takeover=take_over)
    assert taken == ["msg:21"]
    assert decision == passive("<xml>late</xml>")
    # Exactly one takeover: the claim is the survivor's now.
    assert not await dead.claim("o1", "msg:21")
    for store in redis_pair:
        await store.close()
