"""The message registry: every WeChat type and event to a Rasa user message."""

from __future__ import annotations

import json

import pytest

from wechat.config import DEFAULT_MENU
from wechat.mapping import (
    DirectReply,
    MappingContext,
    city_of,
    intent,
    register,
    to_inbound,
)

CONTEXT = MappingContext(menu=DEFAULT_MENU)


def fields(msg_type: str, **extra: str) -> dict[str, str]:
    return {
        "ToUserName": "gh_a",
        "FromUserName": "o_user",
        "CreateTime": "1700000000",
        "MsgType": msg_type,
        "MsgId": "42",
        **extra,
    }


def test_text_and_metadata() -> None:
    inbound = to_inbound(fields("text", Content="你好"), CONTEXT)
    assert inbound.text == "你好"
    assert inbound.metadata["wechat"] == {
        "openid": "o_user",
        "account": "gh_a",
        "msg_type": "text",
        "msg_id": "42",
        "create_time": 1700000000,
    }


def test_voice_uses_recognition_or_asks_to_type() -> None:
    assert to_inbound(fields("voice", Recognition="多少钱"), CONTEXT).text == "多少钱"
    missing = to_inbound(fields("voice"), CONTEXT)
    assert missing.text is None
    assert missing.direct_reply is DirectReply.ASK_TO_TYPE


@pytest.mark.parametrize("msg_type", ["image", "video", "shortvideo"])
def test_media_the_bot_cannot_see_is_out_of_scope(msg_type: str) -> None:
    assert to_inbound(fields(msg_type, MediaId="m"), CONTEXT).text == "/out_of_scope"


def test_link_is_read_by_its_title() -> None:
    inbound = to_inbound(fields("link", Title="X5 Pro多少钱", Url="https://a"), CONTEXT)
    assert inbound.text == "X5 Pro多少钱"
    assert inbound.metadata["wechat"]["url"] == "https://a"
    assert to_inbound(fields("link"), CONTEXT).text == "/out_of_scope"


def test_location_becomes_a_store_question_with_the_city() -> None:
    inbound = to_inbound(
        fields(
            "location",
            Location_X="22.5",
            Location_Y="113.9",
            Label="广东省深圳市南山区科技园",
        ),
        CONTEXT,
    )
    assert inbound.text == '/ask_store{"city": "深圳"}'
    assert inbound.metadata["wechat"]["latitude"] == "22.5"
    assert to_inbound(fields("location", Label="某处"), CONTEXT).text == "/ask_store"


@pytest.mark.parametrize(
    ("label", "city"),
    [
        ("上海市徐汇区漕溪北路", "上海"),
        ("广东省深圳市南山区", "深圳"),
        ("内蒙古自治区呼和浩特市新城区", "呼和浩特"),
        ("北京市", "北京"),
        ("无名小路", None),
    ],
)
def test_city_of(label: str, city: str | None) -> None:
    assert city_of(label) == city


def test_subscribe_greets_with_the_qr_scene() -> None:
    inbound = to_inbound(
        fields("event", Event="subscribe", EventKey="qrscene_store_sh"), CONTEXT
    )
    assert inbound.text == "/greet"
    assert inbound.metadata["wechat"]["scene"] == "store_sh"
    plain = to_inbound(fields("event", Event="subscribe"), CONTEXT)
    assert plain.metadata["wechat"]["scene"] == ""


def test_unfollow_is_the_unfollow_intent_without_replies() -> None:
    inbound = to_inbound(fields("event", Event="unsubscribe"), CONTEXT)
    assert inbound.text == "/unfollow"
    assert not inbound.deliver_replies
    assert inbound.metadata["wechat"]["event"] == "unsubscribe"


def test_click_uses_the_menu_map() -> None:
    click = to_inbound(
        fields("event", Event="CLICK", EventKey="MENU_PROMOTION"), CONTEXT
    )
    assert click.text == "/ask_promotion"
    assert (
        to_inbound(fields("event", Event="CLICK", EventKey="NOPE"), CONTEXT).text
        is None
    )


def test_scan_greets_and_view_and_location_reports_stay_quiet() -> None:
    scan = to_inbound(fields("event", Event="SCAN", EventKey="store_bj"), CONTEXT)
    assert scan.text == "/greet"
    assert scan.metadata["wechat"]["scene"] == "store_bj"
    assert (
        to_inbound(fields("event", Event="VIEW", EventKey="https://a"), CONTEXT).text
        is None
    )
    report = to_inbound(
        fields("event", Event="LOCATION", Latitude="1", Longitude="2"), CONTEXT
    )
    assert report.text is None
    assert report.metadata["wechat"]["latitude"] == "1"


@pytest.mark.parametrize(
    "message",
    [
        fields("miniprogrampage"),
        fields("event", Event="TEMPLATESENDJOBFINISH"),
        fields(""),
    ],
)
def test_unknown_types_run_no_turn(message: dict[str, str]) -> None:
    inbound = to_inbound(message, CONTEXT)
    assert inbound.text is None and inbound.direct_reply is None


def test_intent_with_entities_is_rasa_json() -> None:
    text = intent("/ask_store", city="上海")
    assert json.loads(text[len("/ask_store") :]) == {"city": "上海"}


def test_the_registry_is_open() -> None:
    @register("test_custom_type")
    def _custom(message, context):  # type: ignore[no-untyped-def]
        return to_inbound({**message, "MsgType": "text", "Content": "custom"}, context)

    assert to_inbound(fields("test_custom_type"), CONTEXT).text == "custom"


def test_kf_close_session_ends_the_handoff_without_a_turn() -> None:
    event = fields("event", Event="kf_close_session", KfAccount="kf1@gh_a")
    inbound = to_inbound(event, CONTEXT)
    assert inbound.text is None and inbound.ends_handoff
    assert inbound.metadata["wechat"]["kf_account"] == "kf1@gh_a"
    assert not to_inbound(fields("text", Content="人工"), CONTEXT).ends_handoff
