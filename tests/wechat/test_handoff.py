"""The handoff contract and state: payload, TTL, renewal, end and erasure."""

from __future__ import annotations

from wechat.erasure import erase_openid, user_prefix
from wechat.handoff import (
    HANDOFF_PAYLOAD,
    Handoffs,
    is_handoff_request,
    wants_the_bot_back,
)
from wechat.storage import KeyValueStore, MemoryStore

NAMESPACE = "wx1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_payload_is_recognised_and_nothing_else() -> None:
    assert is_handoff_request(HANDOFF_PAYLOAD)
    assert not is_handoff_request({"wechat": {"transfer_customer_service": "yes"}})
    assert not is_handoff_request({"privacy": "erase_user_data"})
    assert not is_handoff_request({"wechat": "transfer_customer_service"})


async def test_start_end_and_erasure(store: KeyValueStore) -> None:
    handoffs = Handoffs(store, 1800, NAMESPACE)
    assert not await handoffs.active("o1")
    await handoffs.start("o1")
    assert await handoffs.active("o1") and not await handoffs.active("o2")
    await handoffs.end("o1")
    assert not await handoffs.active("o1")
    await handoffs.start("o1")
    # Kept under the user's prefix: a data-deletion request removes it.
    assert await store.get(f"{user_prefix(NAMESPACE, 'o1')}handoff") is not None
    assert await erase_openid(store, NAMESPACE, "o1") == 1
    assert not await handoffs.active("o1")


async def test_the_handoff_expires_unless_renewed() -> None:
    clock = Clock()
    handoffs = Handoffs(MemoryStore(clock), 1800, NAMESPACE)
    await handoffs.start("o1")
    clock.now += 1000
    await handoffs.start("o1")  # a message from the user renews it
    clock.now += 1000
    assert await handoffs.active("o1")
    clock.now += 801
    assert not await handoffs.active("o1")


async def test_a_handoff_ends_after_its_longest_time_however_often_renewed() -> None:
    clock = Clock()
    store = MemoryStore(clock)
    handoffs = Handoffs(store, 1800, NAMESPACE, clock=clock, max_s=4 * 3600)
    await handoffs.start("o1")
    for _ in range(9):  # a message every 25 minutes: 3 hours 45 minutes
        clock.now += 1500
        assert await handoffs.renew("o1")
    clock.now += 1500  # 4 hours and 10 minutes after the transfer
    assert not await handoffs.renew("o1")
    assert not await handoffs.active("o1")
    assert not await Handoffs(store, 1800, NAMESPACE, clock=clock).renew("o2")


def test_the_phrases_that_bring_the_bot_back() -> None:
    assert wants_the_bot_back("返回机器人") and wants_the_bot_back(" 结束人工！")
    assert not wants_the_bot_back("我的订单还没到，机器人别回了")
    assert not wants_the_bot_back(None)
