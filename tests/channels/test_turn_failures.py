"""Faults around a turn over HTTP: no reply, a hung turn, API outages, erasure."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.erasure import ERASE_PAYLOAD
from tests.channels.conftest import TEXTS, Served, ServeFactory, StubAgent
from wechat.storage import MemoryStore

DEADLINE_S = 0.3


def silent(message: UserMessage) -> list[dict[str, Any]]:
    """Rasa 3.6 with the action server down: the exception is logged, no events."""
    return []


def replies(*texts: str) -> Any:
    def respond(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": text} for text in texts]

    return respond


async def until_delivered(served: Served, openid: str, count: int) -> list[str]:
    deadline = time.monotonic() + 5
    while len(served.api.texts_for(openid)) < count:
        assert time.monotonic() < deadline, served.api.texts_for(openid)
        await asyncio.sleep(0.02)
    return served.api.texts_for(openid)


async def test_a_turn_without_a_reply_gets_the_apology_passively(
    serve: ServeFactory,
) -> None:
    served = await serve(agent=StubAgent(silent))
    reply = await served.sim.post(served.sim.text("o1", "有优惠吗"))
    await served.settle()
    assert reply.text == TEXTS.apology
    assert served.api.send_calls == 0


async def test_a_late_turn_without_a_reply_gets_the_apology_through_the_api(
    serve: ServeFactory,
) -> None:
    agent = StubAgent(silent, delay_s=0.6)
    served = await serve(agent=agent, reply_deadline_s=DEADLINE_S)
    reply = await served.sim.post(served.sim.text("o1", "有优惠吗"))
    await served.settle()
    assert reply.body == "success"
    assert served.api.texts_for("o1") == [TEXTS.apology]


async def test_a_hung_turn_gets_the_apology_then_its_late_replies(
    serve: ServeFactory,
) -> None:
    agent = StubAgent(replies("终于好了"), delay_s=1.2)
    served = await serve(agent=agent, reply_deadline_s=DEADLINE_S, turn_timeout_s=0.6)
    reply = await served.sim.post(served.sim.text("o1", "推荐个手机"))
    assert reply.body == "success"
    assert await until_delivered(served, "o1", 1) == [TEXTS.apology]
    assert agent.finished == 0  # still running, not cancelled
    await served.settle()
    assert agent.finished == 1
    assert served.api.texts_for("o1") == [TEXTS.apology, "终于好了"]


async def test_a_hung_turn_that_ends_silent_apologises_once(
    serve: ServeFactory,
) -> None:
    agent = StubAgent(silent, delay_s=1.0)
    served = await serve(agent=agent, reply_deadline_s=DEADLINE_S, turn_timeout_s=0.5)
    await served.sim.post(served.sim.text("o1", "在吗"))
    await served.settle()
    assert served.api.texts_for("o1") == [TEXTS.apology]


async def test_an_unfollow_is_never_apologised_to(serve: ServeFactory) -> None:
    served = await serve(agent=StubAgent(silent))
    reply = await served.sim.post(served.sim.event("o_gone", "unsubscribe"))
    await served.settle()
    assert reply.body == "success" and served.api.send_calls == 0


async def test_api_outage_loses_nothing_and_keeps_the_order(
    serve: ServeFactory,
) -> None:
    served = await serve(agent=StubAgent(replies("一", "二", "三")))
    served.channel.runner._delivery._queue_base_delay_s = 0.05
    # Every try of 二 fails (502, system busy, 503), and the first resend too.
    served.api.fail_http_next(502)
    served.api.fail_next(-1)
    served.api.fail_http_next(503)
    served.api.fail_next(-1)
    reply = await served.sim.post(served.sim.text("o1", "推荐"))
    assert reply.text == "一"
    # The next turn's API reply queues behind the earlier ones.
    served.agent.respond = replies("四", "五")
    second = await served.sim.post(served.sim.text("o1", "还有呢"))
    assert second.text == "四"
    assert await until_delivered(served, "o1", 3) == ["二", "三", "五"]
    await served.settle()
    assert len(served.api.deliveries) == 3  # nothing sent twice


class SavingAgent(StubAgent):
    """Like Rasa: the turn's events are saved before the turn coroutine ends."""

    def __init__(self, trackers: InMemoryTrackerStore) -> None:
        super().__init__(self.respond_to)
        self.trackers = trackers

    @staticmethod
    def respond_to(message: UserMessage) -> list[dict[str, Any]]:
        if message.text == "删除我的数据":
            return [{"text": "已删除"}, {"custom": dict(ERASE_PAYLOAD)}]
        return [
            {
                "text": "要登记吗？",
                "buttons": [{"title": "好的", "payload": "/affirm"}],
            }
        ]

    async def __call__(self, message: UserMessage) -> None:
        sender = message.sender_id or ""
        tracker = await self.trackers.retrieve(sender)
        tracker = tracker or DialogueStateTracker(sender, [])
        tracker.update(UserUttered(message.text))
        await super().__call__(message)
        tracker.update(ActionExecuted("action_listen"))
        await self.trackers.save(tracker)


async def test_erasure_after_the_turn_forgets_the_openid(
    serve: ServeFactory,
) -> None:
    trackers = InMemoryTrackerStore(Domain.empty())
    store = MemoryStore()
    agent = SavingAgent(trackers)
    served = await serve(agent=agent, store=store, tracker_store=lambda: trackers)
    # A menu is remembered for both users, and both have a conversation.
    for openid in ("o_leaver", "o_stayer"):
        await served.sim.post(served.sim.text(openid, "参加活动"))
    await served.settle()
    # WeChat is down for the leaver's follow-up: it waits in the retry queue.
    runner = served.channel.runner
    runner._delivery._queue_base_delay_s = 60
    served.api.fail_next(-1, times=3)
    erase = served.sim.text("o_leaver", "删除我的数据")
    agent.respond = lambda m: [{"text": "好"}, {"text": "稍后"}]
    await served.sim.post(served.sim.text("o_leaver", "在吗"))
    await served.settle()
    assert await runner._delivery.pending() == 1
    agent.respond = SavingAgent.respond_to

    reply = await served.sim.post(erase)
    await served.settle()

    assert reply.text == "已删除"  # the erase signal itself shows nothing
    assert await trackers.retrieve("o_leaver") is None
    assert await trackers.retrieve("o_stayer") is not None
    assert await runner._delivery.pending() == 0
    leftover = [k for k in store._data if "o_leaver" in k]
    # Only the erasing message's own claim and decision, kept for WeChat's retries.
    assert sorted(k.rsplit(":", 3)[1] for k in leftover) == ["claim", "decision"]
    retry = await served.sim.post(erase)
    await served.settle()
    assert retry.text == "已删除"
    assert agent.texts().count("删除我的数据") == 1  # no second turn
    # The menu numbers of the stayer still work; the leaver's are gone.
    assert any("o_stayer" in k and k.endswith(":menu") for k in store._data)
