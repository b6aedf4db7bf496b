"""Exactly-once turns and the reply deadline, over HTTP with a stub agent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rasa.core.channels.channel import UserMessage

from rich_reply import Article, Image, News, to_json
from tests.channels.conftest import TEXTS, ServeFactory, StubAgent
from tools.wechat_sim.simulator import to_xml
from wechat.rendering import MAX_TEXT_BYTES
from wechat.storage import MemoryStore, RedisStore

DEADLINE_S = 0.5


def replies(*texts: str) -> Any:
    def respond(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": text} for text in texts]

    return respond


async def test_same_msgid_three_times_in_a_row_runs_one_turn(
    serve: ServeFactory,
) -> None:
    served = await serve()
    message = served.sim.text("u1", "你好")
    answers = [await served.sim.post(message) for _ in range(3)]
    await served.settle()
    assert len(served.agent.messages) == 1
    # Every try gets the same answer: WeChat shows the one it still waits for.
    assert {a.body for a in answers} == {answers[0].body}
    assert answers[0].text == "收到：你好"
    assert served.api.send_calls == 0


async def test_same_msgid_three_times_at_once_runs_one_turn(
    serve: ServeFactory,
) -> None:
    served = await serve(agent=StubAgent(delay_s=0.2))
    message = served.sim.text("u1", "你好")
    answers = await asyncio.gather(*(served.sim.post(message) for _ in range(3)))
    await served.settle()
    assert len(served.agent.messages) == 1
    assert {a.text for a in answers} == {"收到：你好"}
    assert served.api.send_calls == 0


async def test_same_event_three_times_at_once_runs_one_turn(
    serve: ServeFactory,
) -> None:
    served = await serve()
    event = served.sim.event("u1", "subscribe", "qrscene_a")
    answers = await asyncio.gather(*(served.sim.post(event) for _ in range(3)))
    await served.settle()
    assert served.agent.texts() == ["/greet"]
    assert {a.text for a in answers} == {"收到：/greet"}


async def test_aes_retries_run_one_turn(serve: ServeFactory) -> None:
    served = await serve(aes=True)
    message = served.sim.text("u1", "加密")
    answers = await asyncio.gather(*(served.sim.post(message) for _ in range(3)))
    await served.settle()
    assert len(served.agent.messages) == 1
    assert {a.text for a in answers} == {"收到：加密"}


async def test_slow_turn_answers_success_then_one_api_call(serve: ServeFactory) -> None:
    served = await serve(agent=StubAgent(delay_s=1.5), reply_deadline_s=DEADLINE_S)
    reply = await served.sim.post(served.sim.text("u_slow", "慢一点"))
    # WeChat got its answer at the deadline, while the turn was still running.
    assert (reply.status, reply.body) == (200, "success")
    assert served.agent.finished == 0 and served.api.send_calls == 0
    await served.settle()
    assert served.agent.finished == 1  # not cancelled
    assert served.api.send_calls == 1
    assert served.api.texts_for("u_slow") == ["收到：慢一点"]
    assert len(served.agent.messages) == 1


async def test_retries_of_a_slow_turn_wait_for_it(serve: ServeFactory) -> None:
    served = await serve(agent=StubAgent(delay_s=1.0), reply_deadline_s=DEADLINE_S)
    message = served.sim.text("u_slow", "慢")
    first = await served.sim.post(message)
    second = await served.sim.post(message)  # the turn is still running
    await served.settle()
    third = await served.sim.post(message)  # the turn is over
    await served.settle()
    assert [first.body, second.body, third.body] == ["success"] * 3
    # The second try found the decision made (tests/wechat/test_dedup.py: a
    # decided key answers at once) and started no turn of its own.
    assert len(served.agent.messages) == 1
    assert served.api.texts_for("u_slow") == ["收到：慢"]


async def test_an_unfollow_slower_than_the_deadline_still_sends_nothing(
    serve: ServeFactory,
) -> None:
    agent = StubAgent(replies("第一条", "第二条"), delay_s=1.0)
    served = await serve(agent=agent, reply_deadline_s=DEADLINE_S)
    reply = await served.sim.post(served.sim.event("o_leaver", "unsubscribe"))
    await served.settle()
    assert (reply.status, reply.body) == (200, "success")
    assert agent.texts() == ["/unfollow"] and agent.finished == 1
    assert served.api.send_calls == 0


async def test_turn_finishing_in_time_with_several_replies(serve: ServeFactory) -> None:
    served = await serve(agent=StubAgent(replies("第一条", "第二条", "第三条")))
    reply = await served.sim.post(served.sim.text("u2", "推荐"))
    answered_at = time.monotonic()
    await served.settle()
    assert reply.text == "第一条"
    assert served.api.texts_for("u2") == ["第二条", "第三条"]
    # The follow-ups wait for the passive answer instead of overtaking it.
    assert served.api.deliveries[0].at > answered_at


async def test_long_text_is_split_at_2048_bytes(serve: ServeFactory) -> None:
    long_text = "极光" * 1500  # 9000 bytes
    served = await serve(agent=StubAgent(replies(long_text)))
    reply = await served.sim.post(served.sim.text("u3", "详情"))
    await served.settle()
    pieces = [reply.text or "", *served.api.texts_for("u3")]
    assert "".join(pieces) == long_text
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in pieces)
    assert len(pieces) == 5


async def test_buttons_become_a_numbered_menu_that_maps_back(
    serve: ServeFactory,
) -> None:
    def respond(message: UserMessage) -> list[dict[str, Any]]:
        if message.text == "/affirm":
            return [{"text": "好的"}]
        return [
            {
                "text": "要登记吗？",
                "buttons": [
                    {"title": "好的", "payload": "/affirm"},
                    {"title": "不用", "payload": "/deny"},
                ],
            }
        ]

    served = await serve(agent=StubAgent(respond))
    menu = await served.sim.post(served.sim.text("u4", "参加活动"))
    assert menu.text is not None and "1. 好的" in menu.text and "2. 不用" in menu.text
    await served.settle()
    choice = await served.sim.post(served.sim.text("u4", "1"))
    assert choice.text == "好的"
    await served.settle()
    assert served.agent.texts() == ["参加活动", "/affirm"]
    assert served.agent.messages[1].metadata["wechat"]["menu_choice"] == "1"
    # The menu only answers the next message.
    await served.sim.post(served.sim.text("u4", "1"))
    await served.settle()
    assert served.agent.texts()[-1] == "1"


async def test_images_and_news_payloads(serve: ServeFactory) -> None:
    def respond(message: UserMessage) -> list[dict[str, Any]]:
        return [
            {"custom": to_json(Image(media_id="MEDIA_1"))},
            {"custom": to_json(News((Article("X5 Pro", "https://u", "新品"),)))},
            {"image": "https://cdn.example/x5.png"},
        ]

    served = await serve(agent=StubAgent(respond))
    reply = await served.sim.post(served.sim.text("u5", "看看"))
    await served.settle()
    assert reply.fields["MsgType"] == "image"
    assert reply.fields["Image.MediaId"] == "MEDIA_1"
    kinds = [d.body["msgtype"] for d in served.api.deliveries]
    assert kinds == ["news", "news"]
    assert served.api.deliveries[0].body["news"]["articles"][0]["title"] == "X5 Pro"
    assert (
        served.api.deliveries[1].body["news"]["articles"][0]["picurl"].endswith(".png")
    )


async def test_48001_switches_to_passive_only(serve: ServeFactory) -> None:
    served = await serve(agent=StubAgent(replies("一", "二", "三")))
    served.api.fail_next(48001)
    first = await served.sim.post(served.sim.text("u6", "a"))
    await served.settle()
    assert first.text == "一"
    assert served.api.deliveries == []
    second = await served.sim.post(served.sim.text("u6", "b"))
    await served.settle()
    assert second.text == "一\n\n二\n\n三"
    assert served.api.send_calls == 1  # nothing more was tried


async def test_45015_is_logged_and_the_rest_dropped(serve: ServeFactory) -> None:
    served = await serve(agent=StubAgent(replies("一", "二", "三")))
    served.api.fail_next(45015)
    reply = await served.sim.post(served.sim.text("u7", "a"))
    await served.settle()
    assert reply.text == "一"
    assert served.api.send_calls == 1 and served.api.deliveries == []
    # The channel keeps working, and a later message uses the API again.
    await served.sim.post(served.sim.text("u7", "b"))
    await served.settle()
    assert served.api.texts_for("u7") == ["二", "三"]


async def test_a_failing_agent_gets_the_apology(serve: ServeFactory) -> None:
    def boom(message: UserMessage) -> list[dict[str, Any]]:
        raise RuntimeError("Rasa failed")

    served = await serve(agent=StubAgent(boom))
    reply = await served.sim.post(served.sim.text("u8", "a"))
    assert (reply.status, reply.text) == (200, TEXTS.apology)
    assert (await served.sim.post(served.sim.text("u8", "b"))).status == 200


async def test_two_replicas_sharing_redis_run_one_turn(
    serve: ServeFactory, redis_url: str, redis_prefix: str
) -> None:
    stores = [RedisStore.from_url(redis_url, redis_prefix) for _ in range(2)]
    replica_a = await serve(store=stores[0], agent=StubAgent(delay_s=0.2))
    replica_b = await serve(store=stores[1], agent=StubAgent(delay_s=0.2))
    message = replica_a.sim.text("u9", "跨副本")
    query, body = replica_a.sim.signed(to_xml(message))
    replica_b.sim.webhook_url = replica_b.webhook
    answers = await asyncio.gather(
        replica_a.sim.post_raw(query, body),
        replica_b.sim.post_raw(query, body),
        replica_b.sim.post_raw(query, body),
    )
    await replica_a.settle()
    await replica_b.settle()
    turns = len(replica_a.agent.messages) + len(replica_b.agent.messages)
    assert turns == 1
    assert {a.text for a in answers} == {"收到：跨副本"}


async def test_slow_turn_with_a_retry_on_another_replica(
    serve: ServeFactory, redis_url: str, redis_prefix: str
) -> None:
    stores = [RedisStore.from_url(redis_url, redis_prefix) for _ in range(2)]
    replica_a = await serve(
        store=stores[0], agent=StubAgent(delay_s=1.2), reply_deadline_s=DEADLINE_S
    )
    replica_b = await serve(store=stores[1], reply_deadline_s=DEADLINE_S)
    message = replica_a.sim.text("u10", "慢")
    first = await replica_a.sim.post(message)
    replica_b.sim.webhook_url = replica_b.webhook
    retry = await replica_b.sim.post(message)
    await replica_a.settle()
    await replica_b.settle()
    assert [first.body, retry.body] == ["success", "success"]
    assert len(replica_a.agent.messages) == 1 and replica_b.agent.messages == []
    assert replica_a.api.texts_for("u10") == ["收到：慢"]


async def test_expired_token_under_50_concurrent_late_replies_refreshes_once(
    serve: ServeFactory,
) -> None:
    served = await serve(agent=StubAgent(delay_s=0.6), reply_deadline_s=0.3)
    await served.sim.post(served.sim.text("warm", "up"))
    await served.settle()
    served.api.expire_tokens()
    answers = await asyncio.gather(
        *(served.sim.post(served.sim.text(f"user{i}", "晚点回")) for i in range(50))
    )
    await served.settle()
    assert {a.body for a in answers} == {"success"}
    assert served.api.token_fetches == 2  # the first token and one refresh
    assert len(served.api.deliveries) == 51
    assert len(served.agent.messages) == 51


class SlowDecisionStore(MemoryStore):
    """A store whose decision writes take time, like a distant Redis."""

    async def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        if ":decision:" in key:
            await asyncio.sleep(0.15)
        return await super().set_if_absent(key, value, ttl_s)


async def test_turn_ending_while_the_late_decision_is_stored(
    serve: ServeFactory,
) -> None:
    served = await serve(
        agent=StubAgent(delay_s=0.35),
        store=SlowDecisionStore(),
        reply_deadline_s=0.3,
    )
    reply = await served.sim.post(served.sim.text("u_edge", "边界"))
    await served.settle()
    assert reply.body == "success"
    assert served.api.texts_for("u_edge") == ["收到：边界"]
