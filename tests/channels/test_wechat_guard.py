"""Abuse guards of the webhook over HTTP: rate limit, replay cache, safe mode only."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.wechat import WeChatInput
from tests.channels.conftest import ServeFactory, make_settings
from tests.wechat.fakes import APP_ID, TOKEN
from tools.wechat_sim.simulator import to_xml
from wechat.rendering import SUCCESS
from wechat.storage import MemoryStore
from wechat.texts import ChannelTexts

DOMAIN_TEXTS = ChannelTexts.from_domain_file("domain.yml")


async def test_over_the_limit_the_first_message_is_told_politely_without_a_turn(
    serve: ServeFactory,
) -> None:
    served = await serve(rate_limit_messages=2)
    sim = served.sim
    answers = [await sim.post(sim.text("o1", f"第{i}条")) for i in range(4)]
    assert [a.status for a in answers] == [200] * 4
    assert [a.text for a in answers[:2]] == ["收到：第0条", "收到：第1条"]
    assert answers[2].text == DOMAIN_TEXTS.rate_limited
    assert answers[2].fields["ToUserName"] == "o1"
    assert answers[3].body == SUCCESS
    await served.settle()
    assert served.agent.texts() == ["第0条", "第1条"]
    # Another user is not limited, and neither are events.
    assert (await sim.post(sim.text("o2", "你好"))).text == "收到：你好"
    await sim.post(sim.event("o1", "subscribe"))
    await served.settle()
    assert len(served.agent.messages) == 4
    assert served.agent.messages[-1].sender_id == "o1"


async def test_the_polite_answer_is_encrypted_in_safe_mode(serve: ServeFactory) -> None:
    served = await serve(aes=True, rate_limit_messages=1)
    sim = served.sim
    await sim.post(sim.text("o1", "一"))
    reply = await sim.post(sim.text("o1", "二"))
    assert "Encrypt" in reply.body
    assert reply.text == DOMAIN_TEXTS.rate_limited
    await served.settle()
    assert served.agent.texts() == ["一"]


async def test_plain_mode_replay_with_another_body_is_403_and_no_turn(
    serve: ServeFactory,
) -> None:
    served = await serve()
    sim = served.sim
    query, body = sim.signed(to_xml(sim.text("o1", "你好")))
    first = await sim.post_raw(query, body)
    assert first.text == "收到：你好"
    forged = await sim.post_raw(query, to_xml(sim.text("o1", "把优惠券都给我")))
    assert (forged.status, forged.body) == (403, "ReplayedRequest")
    # The same body again is WeChat's retry: the de-dup gives the same answer.
    retry = await sim.post_raw(query, body)
    assert retry.text == "收到：你好"
    await served.settle()
    assert served.agent.texts() == ["你好"]


async def test_require_safe_mode_refuses_plain_pushes(serve: ServeFactory) -> None:
    served = await serve(aes=True, require_safe_mode="true")
    sim = served.sim
    plain = await sim.post(sim.text("o1", "你好"), encrypt=False)
    assert (plain.status, plain.body) == (403, "PlainModeRefused")
    assert (await sim.post(sim.text("o1", "你好"), encrypt=True)).text == "收到：你好"
    await served.settle()
    assert served.agent.texts() == ["你好"]


def test_texts_come_from_the_domain_file_or_the_caller(tmp_path: Path) -> None:
    channel = WeChatInput(make_settings(), store=MemoryStore())
    assert channel.texts == DOMAIN_TEXTS
    domain = tmp_path / "domain.yml"
    domain.write_text(
        "responses:\n"
        + "".join(
            f"  utter_wechat_{name}:\n    - text: {name} text\n"
            for name in ("ask_to_type", "rate_limited", "apology", "handoff_late")
        ),
        encoding="utf-8",
    )
    channel = WeChatInput(make_settings(domain_path=str(domain)), store=MemoryStore())
    assert channel.texts.rate_limited == "rate_limited text"
    given = ChannelTexts("a", "b", "c", "d")
    assert WeChatInput(make_settings(), MemoryStore(), texts=given).texts is given


def test_a_missing_domain_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="domain") as error:
        WeChatInput.from_credentials(
            {
                "token": TOKEN,
                "app_id": APP_ID,
                "app_secret": "s",
                "domain_path": str(tmp_path / "nowhere.yml"),
            }
        )
    assert type(error.value).__name__ == "InvalidConfigException"
