"""A replica that dies mid-turn: another try takes the turn over, once.

The dead replica is played by a claim nobody renews (its lease lapses); the
surviving replica is a real channel sharing the store, with a stub agent.
"""

from __future__ import annotations

import asyncio

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.turns import TurnRunner
from tests.channels.conftest import TEXTS, ServeFactory, StubAgent
from tests.faults import TcpProxy
from tests.wechat.fakes import APP_ID
from wechat.dedup import API, Deduplicator, message_key
from wechat.inflight import InFlight
from wechat.mapping import MappingContext
from wechat.storage import FailoverStore, MemoryStore, RedisStore

LEASE_S = 0.3


async def dead_replica_claims(store: MemoryStore, openid: str, key: str) -> None:
    """A replica claims ``key`` and dies: it never renews nor decides."""
    assert await Deduplicator(store, 60, APP_ID, lease_s=LEASE_S).claim(openid, key)


async def test_a_try_waiting_for_a_dead_replica_runs_the_turn_itself(
    serve: ServeFactory,
) -> None:
    store = MemoryStore()
    served = await serve(store=store, claim_lease_s=LEASE_S, store_timeout_s=0.1)
    message = served.sim.text("u1", "还在吗")
    await dead_replica_claims(store, "u1", message_key(message))
    answer = await served.sim.post(message)
    await served.settle()
    assert answer.text == "收到：还在吗"
    assert served.agent.texts() == ["还在吗"]


async def test_a_turn_saved_before_its_replica_died_is_not_run_again(
    serve: ServeFactory,
) -> None:
    store = MemoryStore()
    trackers = InMemoryTrackerStore(Domain.empty())
    served = await serve(
        store=store,
        claim_lease_s=LEASE_S,
        store_timeout_s=0.1,
        tracker_store=lambda: trackers,
    )
    message = served.sim.text("u2", "运费多少")
    key = message_key(message)
    saved = DialogueStateTracker.from_events(
        "u2",
        [
            UserUttered("运费多少", message_id=key),
            ActionExecuted("utter_shipping"),
            BotUttered("满99包邮"),
            BotUttered("偏远地区除外"),
            ActionExecuted("action_listen"),
        ],
    )
    await trackers.save(saved)
    await dead_replica_claims(store, "u2", key)
    answer = await served.sim.post(message)
    await served.settle()
    # What the saved turn said, and no second turn.
    assert answer.text == "满99包邮"
    assert served.agent.messages == []
    assert served.api.texts_for("u2") == ["偏远地区除外"]


async def test_a_retry_of_a_decided_but_abandoned_turn_sends_what_is_owed(
    serve: ServeFactory,
) -> None:
    store = MemoryStore()
    served = await serve(store=store, claim_lease_s=LEASE_S, store_timeout_s=0.1)
    message = served.sim.text("u3", "订单到哪了")
    key = message_key(message)
    await dead_replica_claims(store, "u3", key)
    # It had decided to answer through the API, then died before sending.
    dead = Deduplicator(store, 60, APP_ID, lease_s=LEASE_S)
    assert await dead.decide("u3", key, API) == API
    await asyncio.sleep(LEASE_S * 1.5)
    answer = await served.sim.post(message)
    await served.settle()
    assert answer.body == "success"
    assert served.agent.texts() == ["订单到哪了"]
    assert served.api.texts_for("u3") == ["收到：订单到哪了"]


async def test_a_turn_whose_replica_died_after_answering_success_is_finished(
    serve: ServeFactory,
) -> None:
    """No retry comes (WeChat had ``success``): the sweep finishes the turn."""
    store = MemoryStore()
    served = await serve(store=store, claim_lease_s=LEASE_S, store_timeout_s=0.1)
    message = served.sim.text("u4", "发票怎么开")
    key = message_key(message)
    # The dead replica registered and claimed the turn, decided "api" (WeChat
    # got success), and died before the turn ran.
    await InFlight(store, APP_ID, 60).add("u4", key, to_fields(message))
    await dead_replica_claims(store, "u4", key)
    await Deduplicator(store, 60, APP_ID, lease_s=LEASE_S).decide("u4", key, API)
    # The channel's own sweep (every half lease) finds it once the lease lapsed.
    assert served.agent.messages == []
    for _ in range(50):
        await asyncio.sleep(LEASE_S / 2)
        if served.agent.messages:
            break
    await served.settle()
    assert served.agent.texts() == ["发票怎么开"]
    assert served.api.texts_for("u4") == ["收到：发票怎么开"]
    # Over: unregistered, and no later sweep runs it again.
    assert await InFlight(store, APP_ID, 60).turns() == []
    context = MappingContext(menu={})
    assert await served.channel.runner.sweep(served.agent, context) == 0


def to_fields(message: dict[str, object]) -> dict[str, str]:
    return {name: str(value) for name, value in message.items()}


async def test_a_later_message_waits_for_an_earlier_one_its_replica_left(
    serve: ServeFactory,
) -> None:
    """The first message died with its replica; the second landed here."""
    store = MemoryStore()
    served = await serve(store=store, claim_lease_s=LEASE_S, store_timeout_s=0.1)
    first = served.sim.text("u5", "我想买耳机")
    second = served.sim.text("u5", "要降噪的")
    assert int(second["MsgId"]) > int(first["MsgId"])
    await InFlight(store, APP_ID, 60).add("u5", message_key(first), to_fields(first))
    await dead_replica_claims(store, "u5", message_key(first))
    answer = await served.sim.post(second)
    await served.settle()
    # The sweep finished the first (through the API) before the second ran.
    assert served.agent.texts() == ["我想买耳机", "要降噪的"]
    assert "收到：我想买耳机" in served.api.texts_for("u5")
    assert answer.text == "收到：要降噪的" or "收到：要降噪的" in served.api.texts_for(
        "u5"
    )


async def test_a_late_retry_of_a_finished_turn_does_not_register_it_again(
    serve: ServeFactory,
) -> None:
    store = MemoryStore()
    served = await serve(store=store, claim_lease_s=LEASE_S, store_timeout_s=0.1)
    message = served.sim.text("u6", "谢谢")
    first = await served.sim.post(message)
    await served.settle()
    assert await InFlight(store, APP_ID, 60).turns() == []
    retry = await served.sim.post(message)  # WeChat's answer got lost: again
    await served.settle()
    assert retry.body == first.body
    # Nothing for a sweep to find, then or once the lease would have lapsed.
    assert await InFlight(store, APP_ID, 60).turns() == []
    await asyncio.sleep(LEASE_S * 1.5)
    assert await served.channel.runner.sweep(served.agent, MappingContext(menu={})) == 0
    assert served.agent.texts() == ["谢谢"]


async def test_a_turn_that_ended_while_redis_failed_is_settled_once_it_is_back(
    serve: ServeFactory, redis_proxy: TcpProxy, redis_url: str, redis_prefix: str
) -> None:
    """Its end went to memory: Redis learns it before another replica's sweep."""
    shared = RedisStore.from_url(
        redis_proxy.url_for("redis", "/0"), redis_prefix, timeout_s=0.1
    )
    store = FailoverStore(shared, retry_after_s=0.3)
    served = await serve(
        agent=StubAgent(delay_s=0.8),
        store=store,
        claim_lease_s=LEASE_S,
        store_timeout_s=0.1,
    )
    message = served.sim.text("u7", "在吗")
    answering = asyncio.ensure_future(served.sim.post(message))
    await asyncio.sleep(0.3)
    redis_proxy.stop()  # the turn ends while Redis is down
    await answering
    await served.settle()
    redis_proxy.start()
    direct = RedisStore.from_url(redis_url, redis_prefix)
    try:
        for _ in range(40):  # the channel's own sweep settles it
            await asyncio.sleep(LEASE_S / 2)
            if await InFlight(direct, APP_ID, 60).turns() == []:
                break
        assert await InFlight(direct, APP_ID, 60).turns() == []
        assert await Deduplicator(direct, 60, APP_ID).over("u7", message_key(message))
        # Another replica's sweep finds nothing to run again.
        other = TurnRunner(
            served.channel.settings,
            direct,
            served.channel.api,
            texts=TEXTS,
            retry_queue_path=served.channel.settings.retry_queue_path + ".other",
        )
        assert await other.sweep(served.agent, MappingContext(menu={})) == 0
        assert served.agent.texts() == ["在吗"]
    finally:
        await direct.close()
