"""Every rich reply an action may send reaches WeChat, through the real channel.

The replies go through ``WeChatInput`` served on loopback, its turn runner and
the customer-service API client, to the local stand-in of WeChat's API; the
first text answers passively, the rich reply follows through the API.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.recommendation_actions import ActionRecommendProducts
from catalog.model import Catalog
from marketing.store import MarketingStore
from rich_reply import KINDS, News, from_json, to_json
from tests.actions.conftest import TODAY, buttons, render
from tests.channels.conftest import ServeFactory, StubAgent
from tests.rich_reply.test_payloads import EXAMPLES

INTRO = "为您挑了这些："


def answers(*messages: dict[str, Any]) -> StubAgent:
    def respond(message: UserMessage) -> list[dict[str, Any]]:
        return list(messages)

    return StubAgent(respond)


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_every_kind_reaches_wechat(
    kind: str, serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    served = await serve(
        agent=answers({"text": INTRO}, {"custom": to_json(EXAMPLES[kind])})
    )
    with caplog.at_level(logging.WARNING):
        passive = await served.sim.post(served.sim.text(f"u_{kind}", "看看"))
        await served.settle()

    assert passive.text == INTRO
    bodies = [d.body for d in served.api.deliveries]
    assert bodies, f"{kind}: nothing reached WeChat"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    if kind == "news":
        shown = [b["news"]["articles"][0] for b in bodies]
        assert [(a["title"], a["url"]) for a in shown] == [
            ("极光 X5 ¥3,999", "https://s.cn/x5"),
            ("极光 Buds", "https://s.cn/buds"),
        ]
        assert shown[0]["picurl"] == "https://c/x5.png"
        assert shown[0]["description"] == "轻薄"
    elif kind == "choices":
        assert [b["msgtype"] for b in bodies] == ["text"]
        assert bodies[0]["text"]["content"].startswith("想看哪一类？\n1. 手机\n")
    elif kind == "image":
        (article,) = bodies[0]["news"]["articles"]
        assert article["picurl"] == article["url"] == "https://c/x5.png"
    else:
        (article,) = bodies[0]["news"]["articles"]
        assert article == {
            "title": "双12预约",
            "description": "提前锁定优惠",
            "url": "https://s.cn/d12",
            "picurl": "https://c/d12.png",
        }


async def test_a_choice_typed_as_its_number_sends_its_payload(
    serve: ServeFactory,
) -> None:
    served = await serve(agent=answers({"custom": to_json(EXAMPLES["choices"])}))
    menu = await served.sim.post(served.sim.text("u_c", "推荐点东西"))
    await served.settle()
    assert menu.text is not None and menu.text.startswith("想看哪一类？\n1. 手机\n")

    await served.sim.post(served.sim.text("u_c", "1"))
    await served.settle()

    assert served.agent.texts()[-1] == (
        '/request_recommendation{"product_category": "手机"}'
    )


async def test_a_media_id_image_answers_passively(serve: ServeFactory) -> None:
    served = await serve(
        agent=answers({"custom": {"rich_reply": {"kind": "image", "media_id": "M1"}}})
    )
    reply = await served.sim.post(served.sim.text("u_i", "图"))
    assert (reply.fields["MsgType"], reply.fields["Image.MediaId"]) == ("image", "M1")


async def test_custom_json_outside_the_contract_is_an_error_in_the_log(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    served = await serve(
        agent=answers({"text": INTRO}, {"custom": {"msgtype": "news", "news": {}}})
    )
    passive = await served.sim.post(served.sim.text("u_x", "看看"))
    await served.settle()
    assert passive.text == INTRO and served.api.deliveries == []
    assert any("no rich reply" in r.getMessage() for r in caplog.records)


async def test_recommended_products_arrive_as_news_articles(
    catalog: Catalog, serve: ServeFactory, marketing_db: MarketingStore
) -> None:
    # The real action's output, as the action server returns it to Rasa.
    dispatcher = CollectingDispatcher()
    tracker = Tracker.from_dict(
        {
            "sender_id": "u_rec",
            "slots": {},
            "latest_message": {
                "text": "耳机推荐",
                "intent": {"name": "request_recommendation", "confidence": 0.95},
                "entities": [{"entity": "product_category", "value": "耳机"}],
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )
    action = ActionRecommendProducts(catalog, lambda: TODAY, store=lambda: marketing_db)
    await action.run(dispatcher, tracker, {})
    sent = from_json(next(m["custom"] for m in dispatcher.messages if m["custom"]))
    assert isinstance(sent, News)

    # What Rasa sends the channel: the response rendered from domain.yml, the
    # payload as the message's custom part.
    rendered = [
        {"text": render(m), "custom": m["custom"], "buttons": buttons(m)}
        for m in dispatcher.messages
    ]
    served = await serve(agent=answers(*rendered))
    passive = await served.sim.post(served.sim.text("u_rec", "耳机推荐"))
    await served.settle()

    assert passive.text is not None and passive.text.startswith("为您挑了这几款耳机")
    arrived = [d.body["news"]["articles"][0] for d in served.api.deliveries]
    assert [a["title"] for a in arrived] == [a.title for a in sent.articles]
    for article, expected in zip(arrived, sent.articles, strict=True):
        assert article["url"] == expected.url and "trk=" in article["url"]
        assert article["picurl"] == expected.picurl and article["picurl"]
        assert article["title"].startswith("极光") and "¥" in article["title"]
