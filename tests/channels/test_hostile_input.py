"""Hostile requests get 4xx or success within 1 s, never a 5xx; the server goes on."""

from __future__ import annotations

import time

import pytest

from tests.channels.conftest import Served, ServeFactory
from tests.wechat.test_xml_safety import BILLION_LAUGHS, XXE
from tools.wechat_sim.simulator import to_xml
from wechat.signature import sign

LIMIT = 4096

HOSTILE_BODIES: dict[str, bytes] = {
    "malformed": b"<xml><ToUserName>gh</ToUserName><Content>unclosed</xml>",
    "external entity": XXE,
    "entity expansion": BILLION_LAUGHS,
    "wrong root": b"<message><MsgType>text</MsgType></message>",
    "over the size limit": b"<xml><Content>" + b"a" * (LIMIT * 4) + b"</Content></xml>",
    "not UTF-8": b"<xml><Content>\xff\xfe\xfa</Content></xml>",
    "empty": b"",
    "missing fields": b"<xml><MsgType>text</MsgType><Content>hi</Content></xml>",
    "empty fields": (
        b"<xml><ToUserName></ToUserName><FromUserName></FromUserName>"
        b"<CreateTime></CreateTime><MsgType></MsgType></xml>"
    ),
    "repeated fields": (
        b"<xml><ToUserName>a</ToUserName><ToUserName>b</ToUserName>"
        b"<FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>text</MsgType></xml>"
    ),
    "binary": bytes(range(256)) * 4,
    "json": b'{"MsgType": "text"}',
    "nested text": (
        b"<xml><ToUserName><a>b</a></ToUserName><FromUserName>u</FromUserName>"
        b"<CreateTime>1</CreateTime><MsgType>text</MsgType></xml>"
    ),
    "bad CreateTime": (
        b"<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName>"
        b"<CreateTime>yesterday</CreateTime><MsgType>text</MsgType>"
        b"<Content>hi</Content><MsgId>abc</MsgId></xml>"
    ),
}


def signed_query(token: str = "test-token") -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"timestamp": stamp, "nonce": "n", "signature": sign(token, stamp, "n")}


async def assert_still_serving(served: Served) -> None:
    reply = await served.sim.post(served.sim.text("u_ok", "还在吗"))
    assert reply.text == "收到：还在吗"


def assert_safe(status: int, body: str) -> None:
    assert 0 < status < 500
    assert 400 <= status < 500 or body == "success", (status, body)


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
async def test_hostile_plain_bodies(serve: ServeFactory, name: str) -> None:
    served = await serve(max_body_bytes=LIMIT)
    reply = await served.sim.post_raw(signed_query(), HOSTILE_BODIES[name])
    assert_safe(reply.status, reply.body)
    await assert_still_serving(served)
    assert "还在吗" in served.agent.texts()


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
async def test_hostile_payloads_inside_valid_encryption(
    serve: ServeFactory, name: str
) -> None:
    served = await serve(aes=True, max_body_bytes=LIMIT * 8)
    assert served.sim.crypto is not None
    stamp = str(int(time.time()))
    payload = HOSTILE_BODIES[name].decode("utf-8", "replace")
    envelope = served.sim.crypto.encrypt(payload or " ", "n", stamp)
    encrypted = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    query = {
        **signed_query(),
        "timestamp": stamp,
        "encrypt_type": "aes",
        "msg_signature": sign("test-token", stamp, "n", encrypted),
    }
    reply = await served.sim.post_raw(query, to_xml({"Encrypt": encrypted}))
    assert_safe(reply.status, reply.body)
    await assert_still_serving(served)


@pytest.mark.parametrize(
    "envelope",
    [
        b"<xml><ToUserName>gh</ToUserName></xml>",  # no Encrypt
        b"<xml><Encrypt></Encrypt></xml>",
        b"<xml><Encrypt>%%%</Encrypt></xml>",
        XXE,
    ],
)
async def test_hostile_encrypted_envelopes(
    serve: ServeFactory, envelope: bytes
) -> None:
    served = await serve(aes=True)
    query = {**signed_query(), "encrypt_type": "aes", "msg_signature": "0" * 40}
    reply = await served.sim.post_raw(query, envelope)
    assert_safe(reply.status, reply.body)
    await assert_still_serving(served)


async def test_declared_length_over_the_limit_is_refused_unread(
    serve: ServeFactory,
) -> None:
    served = await serve(max_body_bytes=LIMIT)
    reply = await served.sim.post_raw(signed_query(), b"<xml>" + b" " * (LIMIT * 64))
    assert reply.status == 413
    await assert_still_serving(served)


async def test_unsigned_garbage_is_403_before_reading(serve: ServeFactory) -> None:
    served = await serve()
    reply = await served.sim.post_raw({}, BILLION_LAUGHS)
    assert reply.status == 403
    await assert_still_serving(served)


async def test_many_hostile_requests_in_a_row(serve: ServeFactory) -> None:
    served = await serve(max_body_bytes=LIMIT)
    for _ in range(3):
        for body in HOSTILE_BODIES.values():
            reply = await served.sim.post_raw(signed_query(), body)
            assert_safe(reply.status, reply.body)
    await assert_still_serving(served)
