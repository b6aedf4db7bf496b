"""The channel over HTTP on 127.0.0.1: handshake, verification, every message type."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from channels.wechat import WeChatInput
from tests.channels.conftest import TEXTS, ServeFactory, StubAgent, make_settings
from tests.wechat.fakes import ACCOUNT, APP_ID, TOKEN
from tests.wechat.test_crypto import (
    RECEIVED_APP_ID,
    RECEIVED_ENCRYPT,
    RECEIVED_MSG_SIGNATURE,
    RECEIVED_NONCE,
    RECEIVED_TIMESTAMP,
    RECEIVED_TOKEN,
    SAMPLE_KEY,
)
from tools.wechat_sim.simulator import to_xml
from wechat.signature import sign


async def get(url: str, params: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as r:
        return r.status, await r.text()


def handshake_query(token: str = TOKEN, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "signature": sign(token, stamp, "123"),
        "timestamp": stamp,
        "nonce": "123",
        "echostr": "echo-42",
    }


def test_channel_name_and_credentials() -> None:
    assert WeChatInput.name() == "wechat"
    channel = WeChatInput.from_credentials(
        {"token": TOKEN, "app_id": APP_ID, "app_secret": "s"}
    )
    assert channel.url_prefix() == "wechat"
    with pytest.raises(Exception, match="credentials"):
        WeChatInput.from_credentials(None)


async def test_health(serve: ServeFactory) -> None:
    served = await serve()
    assert await get(served.url + "/webhooks/wechat/") == (200, '{"status":"ok"}')


async def test_handshake_returns_echostr_only_when_valid(serve: ServeFactory) -> None:
    served = await serve()
    assert await get(served.webhook, handshake_query()) == (200, "echo-42")
    bad = {**handshake_query(), "signature": "0" * 40}
    assert (await get(served.webhook, bad))[0] == 403
    stale = handshake_query(timestamp=int(time.time()) - 301)
    assert (await get(served.webhook, stale))[0] == 403
    assert (await get(served.webhook, {"echostr": "x"}))[0] == 403
    assert (await get(served.webhook))[0] == 403


@pytest.mark.parametrize(
    "query_change",
    [
        {"signature": "0" * 40},
        {"signature": ""},
        {"timestamp": "1409304348"},
        {"nonce": "other"},
    ],
)
async def test_bad_signature_or_stale_timestamp_is_403_and_not_processed(
    serve: ServeFactory, query_change: dict[str, str]
) -> None:
    served = await serve()
    query, body = served.sim.signed(to_xml(served.sim.text("u1", "你好")))
    query.update(query_change)
    reply = await served.sim.post_raw(query, body)
    assert reply.status == 403
    await served.settle()
    assert served.agent.messages == []


async def test_stale_but_correctly_signed_request_is_403(serve: ServeFactory) -> None:
    served = await serve()
    stamp = str(int(time.time()) - 3600)
    query = {"timestamp": stamp, "nonce": "n", "signature": sign(TOKEN, stamp, "n")}
    reply = await served.sim.post_raw(query, to_xml(served.sim.text("u1", "hi")))
    assert reply.status == 403
    assert served.agent.messages == []


async def test_text_reply_and_metadata_reach_the_tracker(serve: ServeFactory) -> None:
    served = await serve()
    message = served.sim.text("o_user1", "X5 Pro多少钱")
    reply = await served.sim.post(message)
    assert reply.status == 200
    assert reply.fields["MsgType"] == "text"
    assert reply.text == "收到：X5 Pro多少钱"
    assert reply.fields["ToUserName"] == "o_user1"
    assert reply.fields["FromUserName"] == ACCOUNT
    user = served.agent.messages[0]
    assert user.sender_id == "o_user1"
    assert user.input_channel == "wechat"
    assert user.message_id == f"msg:{message['MsgId']}"
    assert user.metadata == {
        "wechat": {
            "openid": "o_user1",
            "account": ACCOUNT,
            "msg_type": "text",
            "msg_id": str(message["MsgId"]),
            "create_time": message["CreateTime"],
        }
    }


async def test_voice_with_and_without_recognition(serve: ServeFactory) -> None:
    served = await serve()
    reply = await served.sim.post(served.sim.voice("u1", "有什么优惠"))
    assert reply.text == "收到：有什么优惠"
    reply = await served.sim.post(served.sim.voice("u1", None))
    assert reply.text == TEXTS.ask_to_type
    await served.settle()
    assert served.agent.texts() == ["有什么优惠"]


@pytest.mark.parametrize(
    ("msg_type", "fields", "expected"),
    [
        ("image", {"PicUrl": "http://p", "MediaId": "m"}, "/out_of_scope"),
        ("video", {"MediaId": "m", "ThumbMediaId": "t"}, "/out_of_scope"),
        ("shortvideo", {"MediaId": "m", "ThumbMediaId": "t"}, "/out_of_scope"),
        (
            "link",
            {"Title": "极光耳机", "Description": "d", "Url": "http://u"},
            "极光耳机",
        ),
        (
            "location",
            {
                "Location_X": "31.2",
                "Location_Y": "121.4",
                "Scale": "15",
                "Label": "上海市徐汇区",
            },
            '/ask_store{"city": "上海"}',
        ),
    ],
)
async def test_media_and_location_messages(
    serve: ServeFactory, msg_type: str, fields: dict[str, Any], expected: str
) -> None:
    served = await serve()
    reply = await served.sim.post(served.sim.message("u1", msg_type, **fields))
    assert reply.status == 200
    assert served.agent.texts() == [expected]
    assert served.agent.messages[0].metadata["wechat"]["msg_type"] == msg_type


@pytest.mark.parametrize(
    ("event", "key", "expected"),
    [
        ("subscribe", "", "/greet"),
        ("subscribe", "qrscene_store_sz", "/greet"),
        ("SCAN", "store_sz", "/greet"),
        ("CLICK", "MENU_PROMOTION", "/ask_promotion"),
        ("CLICK", "MENU_STORE", "/ask_store"),
    ],
)
async def test_events_that_start_a_turn(
    serve: ServeFactory, event: str, key: str, expected: str
) -> None:
    served = await serve()
    reply = await served.sim.post(served.sim.event("u1", event, key))
    assert reply.text == f"收到：{expected}"
    meta = served.agent.messages[0].metadata["wechat"]
    assert meta["event"] == event
    if key.startswith("qrscene_") or event == "SCAN":
        assert meta["scene"] == "store_sz"


@pytest.mark.parametrize(
    ("event", "key", "fields"),
    [
        ("VIEW", "https://shop.example/x5", {}),
        ("LOCATION", "", {"Latitude": "23.1", "Longitude": "113.3", "Precision": "50"}),
        ("CLICK", "MENU_UNKNOWN", {}),
        ("TEMPLATESENDJOBFINISH", "", {"Status": "success"}),
    ],
)
async def test_events_answered_success_without_a_turn(
    serve: ServeFactory, event: str, key: str, fields: dict[str, Any]
) -> None:
    served = await serve()
    reply = await served.sim.post(served.sim.event("u1", event, key, **fields))
    assert (reply.status, reply.body) == (200, "success")
    await served.settle()
    assert served.agent.messages == []


async def test_unknown_message_type_is_success(serve: ServeFactory) -> None:
    served = await serve()
    reply = await served.sim.post(
        served.sim.message("u1", "miniprogrampage", Title="t")
    )
    assert (reply.status, reply.body) == (200, "success")
    assert served.agent.messages == []


async def test_unfollow_is_one_turn_whose_replies_are_not_delivered(
    serve: ServeFactory,
) -> None:
    def two_replies(message: UserMessage) -> list[dict[str, Any]]:
        return [{"text": "first"}, {"text": "second"}]

    served = await serve(agent=StubAgent(two_replies))
    reply = await served.sim.post(served.sim.event("o_leaver", "unsubscribe"))
    assert (reply.status, reply.body) == (200, "success")
    await served.settle()
    # The dialogue records the opt-out (data/rules.yml): the channel passes on the
    # one message, runs no action of its own and sends none of the turn's replies.
    assert served.agent.texts() == ["/unfollow"]
    assert served.agent.messages[0].metadata["wechat"]["event"] == "unsubscribe"
    assert served.agent.finished == 1
    assert served.api.send_calls == 0


async def test_documented_encrypted_message_through_the_webhook(
    serve: ServeFactory,
) -> None:
    # WeChat's sample is from 2014: the window is widened for this one test.
    served = await serve(
        token=RECEIVED_TOKEN,
        app_id=RECEIVED_APP_ID,
        encoding_aes_key=SAMPLE_KEY,
        timestamp_window_s=1e10,
    )
    query = {
        "signature": sign(RECEIVED_TOKEN, RECEIVED_TIMESTAMP, RECEIVED_NONCE),
        "timestamp": RECEIVED_TIMESTAMP,
        "nonce": RECEIVED_NONCE,
        "encrypt_type": "aes",
        "msg_signature": RECEIVED_MSG_SIGNATURE,
    }
    body = to_xml({"ToUserName": "gh_10f6c3c3ac5a", "Encrypt": RECEIVED_ENCRYPT})
    reply = await served.sim.post_raw(query, body)
    assert reply.status == 200
    assert "<Encrypt>" in reply.body and "abcdteT" not in reply.body
    assert served.agent.texts() == ["abcdteT"]
    assert served.agent.messages[0].sender_id == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"


async def test_aes_mode_replies_are_encrypted_and_verifiable(
    serve: ServeFactory,
) -> None:
    served = await serve(aes=True)
    reply = await served.sim.post(served.sim.text("u1", "你好"))
    assert reply.status == 200
    assert "收到" not in reply.body  # only ciphertext on the wire
    assert reply.text == "收到：你好"  # the simulator checked MsgSignature


async def test_compatible_mode_body_is_decrypted(serve: ServeFactory) -> None:
    served = await serve(aes=True)
    message = served.sim.text("u1", "兼容模式")
    query, envelope = served.sim.signed(to_xml(message), encrypt=True)
    encrypted = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    # Compatible mode: the plaintext fields and their encrypted copy in one body.
    body = to_xml({**message, "Content": "篡改", "Encrypt": encrypted})
    reply = await served.sim.post_raw(query, body)
    assert reply.status == 200
    # The encrypted copy is the one read; the plaintext copy is ignored.
    assert served.agent.texts() == ["兼容模式"]


async def test_plain_requests_still_work_when_aes_is_configured(
    serve: ServeFactory,
) -> None:
    served = await serve(aes=True)
    reply = await served.sim.post(served.sim.text("u1", "明文"), encrypt=False)
    assert reply.text == "收到：明文"
    assert "<Encrypt>" not in reply.body


async def test_encrypted_request_without_aes_key_is_rejected(
    serve: ServeFactory,
) -> None:
    served = await serve(aes=True)
    plain = await serve()
    query, body = served.sim.signed(to_xml(served.sim.text("u1", "x")), encrypt=True)
    plain.sim.webhook_url = plain.webhook
    reply = await plain.sim.post_raw(query, body)
    assert reply.status == 403
    assert plain.agent.messages == []


@pytest.mark.parametrize("tamper", ["ciphertext", "signature", "app_id"])
async def test_tampered_ciphertext_and_wrong_app_id_are_403(
    serve: ServeFactory, tamper: str
) -> None:
    served = await serve(aes=True)
    sender = served.sim
    if tamper == "app_id":
        other = await serve(aes=True, app_id="wx9999999999999999")
        sender = other.sim
    query, body = sender.signed(to_xml(sender.text("u1", "x")), encrypt=True)
    if tamper == "ciphertext":
        encrypted = body.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
        flipped = ("B" if encrypted[20] == "A" else "A").join(
            [encrypted[:20], encrypted[21:]]
        )
        body = body.replace(encrypted, flipped)
        query["msg_signature"] = sign(
            TOKEN, query["timestamp"], query["nonce"], flipped
        )
    elif tamper == "signature":
        query["msg_signature"] = "0" * 40
    reply = await served.sim.post_raw(query, body)
    assert reply.status == 403
    await served.settle()
    assert served.agent.messages == []


async def test_settings_from_credentials_build_a_working_channel() -> None:
    settings = make_settings(
        encoding_aes_key="kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
    )
    channel = WeChatInput(settings)
    assert channel.settings.encoding_aes_key is not None


async def test_output_channel_for_proactive_messages(serve: ServeFactory) -> None:
    served = await serve()
    output = served.channel.get_output_channel()
    assert output.name() == "wechat"
    await output.send_response("o_push", {"text": "您关注的 X5 Pro 降价了"})
    await output.send_response("o_push", {"image": "https://cdn.example/x5.png"})
    assert served.api.texts_for("o_push") == ["您关注的 X5 Pro 降价了", "[图文] 图片"]
