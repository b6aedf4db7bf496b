"""转人工 over HTTP: the transfer reply, a silent bot, and the session's end."""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import UserMessage

from tests.channels.conftest import TEXTS, ServeFactory, StubAgent
from wechat.erasure import erase_openid
from wechat.handoff import HANDOFF_PAYLOAD
from wechat.storage import MemoryStore, RedisStore

HANDOFF_TEXT = "好的，正在为您转接人工客服"
TRANSFER = "transfer_customer_service"


def agent_handing_off(message: UserMessage) -> list[dict[str, Any]]:
    """Plays action_handoff on "人工", echoes anything else."""
    if message.text == "人工":
        return [{"text": HANDOFF_TEXT}, {"custom": HANDOFF_PAYLOAD}]
    return [{"text": f"收到：{message.text}"}]


async def test_a_handoff_transfers_and_silences_the_bot_until_the_agent_closes(
    serve: ServeFactory,
) -> None:
    served = await serve(agent=StubAgent(agent_handing_off))
    sim = served.sim
    transfer = await sim.post(sim.text("o1", "人工"))
    assert transfer.fields["MsgType"] == TRANSFER
    assert (transfer.fields["ToUserName"], transfer.fields["FromUserName"]) == (
        "o1",
        sim.account,
    )
    await served.settle()
    # The action's sentence follows through the API; the payload shows nothing.
    assert served.api.texts_for("o1") == [HANDOFF_TEXT]
    # With the agent: transferred, no turn, nothing from the bot.
    for text in ("我的订单AU123没到", "在吗"):
        reply = await sim.post(sim.text("o1", text))
        assert reply.fields["MsgType"] == TRANSFER
    await served.settle()
    assert served.agent.texts() == ["人工"]
    # Other users still talk to the bot.
    assert (await sim.post(sim.text("o2", "你好"))).text == "收到：你好"
    # The agent closes the session: the bot answers again.
    closed = await sim.post(sim.event("o1", "kf_close_session", KfAccount="kf1@gh"))
    assert closed.body == "success"
    assert (await sim.post(sim.text("o1", "谢谢"))).text == "收到：谢谢"
    await served.settle()
    assert served.agent.texts() == ["人工", "你好", "谢谢"]


async def test_a_handoff_after_the_deadline_says_an_agent_will_answer(
    serve: ServeFactory,
) -> None:
    agent = StubAgent(agent_handing_off, delay_s=1.0)
    served = await serve(agent=agent, reply_deadline_s=0.5)
    late = await served.sim.post(served.sim.text("o3", "人工"))
    assert late.body == "success"
    await served.settle()
    assert served.api.texts_for("o3") == [HANDOFF_TEXT, TEXTS.handoff_late]
    # The state is set all the same: the next message goes to the agent.
    reply = await served.sim.post(served.sim.text("o3", "订单没到"))
    assert reply.fields["MsgType"] == TRANSFER
    assert agent.texts() == ["人工"]


async def test_erasure_and_unfollow_end_the_handoff(serve: ServeFactory) -> None:
    store = MemoryStore()
    served = await serve(agent=StubAgent(agent_handing_off), store=store)
    sim = served.sim
    await sim.post(sim.text("o4", "人工"))
    await sim.post(sim.text("o5", "人工"))
    await served.settle()
    await erase_openid(store, served.channel.settings.app_id, "o4")
    assert (await sim.post(sim.text("o4", "还在吗"))).text == "收到：还在吗"
    await sim.post(sim.event("o5", "unsubscribe"))
    await served.settle()
    assert (await sim.post(sim.text("o5", "又关注了"))).text == "收到：又关注了"


async def test_replicas_sharing_redis_share_the_handoff(
    serve: ServeFactory, redis_url: str, redis_prefix: str
) -> None:
    stores = [RedisStore.from_url(redis_url, redis_prefix) for _ in range(2)]
    replica_a = await serve(store=stores[0], agent=StubAgent(agent_handing_off))
    replica_b = await serve(store=stores[1], agent=StubAgent(agent_handing_off))
    await replica_a.sim.post(replica_a.sim.text("o6", "人工"))
    await replica_a.settle()
    reply = await replica_b.sim.post(replica_b.sim.text("o6", "订单"))
    assert reply.fields["MsgType"] == TRANSFER
    assert replica_b.agent.messages == []


async def test_the_user_can_ask_for_the_bot_back(serve: ServeFactory) -> None:
    served = await serve(agent=StubAgent(agent_handing_off))
    sim = served.sim
    assert (await sim.post(sim.text("o5", "人工"))).fields["MsgType"] == TRANSFER
    assert (await sim.post(sim.text("o5", "在吗"))).fields["MsgType"] == TRANSFER
    # The bot answers that very message, and the ones after it.
    assert (await sim.post(sim.text("o5", "返回机器人"))).text == "收到：返回机器人"
    assert (await sim.post(sim.text("o5", "你好"))).text == "收到：你好"
