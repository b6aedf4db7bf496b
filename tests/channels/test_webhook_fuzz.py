"""Fuzzing the whole webhook: never a 5xx, never an error past the typed ones.

Random bodies, query strings, ``encrypt_type`` and ``msg_signature``, damaged AES,
XML bombs and odd Unicode are posted over a raw TCP connection (so that any byte
can be in the request line) to the real ``WeChatInput`` served on loopback, one
channel for all examples of a test. Each request must be answered within WeChat's
5 s with a status below 500, and the webhook's catch-all boundary must never fire:
every refusal is one of the typed ``RequestRejected`` errors (400, 403, 413).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.channels.conftest import Served, ServeFactory
from tests.channels.test_peer_fixtures import ECHO, passive_fields
from tests.fuzzing import (
    fuzz_settings,
    unicode_text,
    xml_bombs,
    xml_documents,
    xml_text,
)
from tests.wechat.fakes import TOKEN
from tests.wechat.test_fuzz import damaged_ciphertexts
from tools.wechat_sim.simulator import WECHAT_TIMEOUT_S, Reply, to_xml
from wechat.rendering import SUCCESS
from wechat.signature import sign
from wechat.xml_safety import parse_xml

PATH = b"/webhooks/wechat/webhook"
# Refusals the channel makes on purpose, and Sanic's own 400 for a request line
# it cannot parse.
REFUSALS = {400, 403, 413}
# A nonce and a sender of their own for every request: a replay cache or a
# per-user rate limit must not turn a fuzz example into a different test.
_serial = itertools.count(1)
LIMIT = 8192


def fresh() -> str:
    return str(next(_serial))


async def post(served: Served, target: bytes, body: bytes) -> tuple[int, bytes]:
    """One raw HTTP/1.1 POST; returns the status and body."""
    url = urlsplit(served.url)
    assert url.hostname is not None and url.port is not None
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(
            b"POST " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: text/xml\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), WECHAT_TIMEOUT_S)
    finally:
        writer.close()
    if not answer:
        return 0, b""  # the connection closed without an answer
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), content


def target(query: dict[str, str]) -> bytes:
    """The request target of the webhook with ``query`` percent-encoded."""
    pairs = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    return PATH + b"?" + pairs.encode()


def signed_query(timestamp: str | None = None) -> dict[str, str]:
    """A valid plain-mode query with a nonce never used before."""
    stamp = timestamp or str(int(time.time()))
    nonce = fresh()
    return {"timestamp": stamp, "nonce": nonce, "signature": sign(TOKEN, stamp, nonce)}


Channel = Callable[[bool], Awaitable[Served]]


@pytest.fixture
def channel(serve: ServeFactory) -> Channel:
    """The served channel of this test, plain or safe mode, shared by its examples."""
    started: dict[bool, Served] = {}

    async def get(aes: bool) -> Served:
        if aes not in started:
            started[aes] = await serve(aes=aes, max_body_bytes=LIMIT)
        return started[aes]

    return get


class Boundary:
    """Errors logged while the examples run (the catch-all logs with a traceback)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.ERROR)
        self._caplog = caplog

    def clear(self) -> None:
        self._caplog.clear()

    def errors(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()} {r.exc_info[1] if r.exc_info else ''}"
            for r in self._caplog.records
            if r.levelno >= logging.ERROR
        ]


@pytest.fixture
def boundary(caplog: pytest.LogCaptureFixture) -> Boundary:
    return Boundary(caplog)


async def check(
    served: Served, boundary: Boundary, target: bytes, body: bytes
) -> tuple[int, bytes]:
    boundary.clear()
    started = time.monotonic()
    status, content = await post(served, target, body)
    assert time.monotonic() - started < WECHAT_TIMEOUT_S
    assert status == 200 or status in REFUSALS, (status, content[:200])
    if status == 200:
        assert content == SUCCESS.encode() or content.startswith(b"<xml>"), content
    assert not boundary.errors(), boundary.errors()
    return status, content


def message(content: str, **fields: str) -> str:
    return to_xml(
        {
            "ToUserName": "gh_fuzz",
            "FromUserName": f"o_fuzz_{fresh()}",
            "CreateTime": int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": int(fresh()) + 10**15,
            **fields,
        }
    )


bodies = st.one_of(
    st.binary(max_size=600),
    unicode_text.map(lambda t: t.encode("utf-8")),
    xml_documents().map(lambda d: d.encode("utf-8")),
    xml_bombs().map(lambda d: d.encode("utf-8")),
    unicode_text.map(lambda t: message(t).encode("utf-8")),
    st.integers(LIMIT - 64, LIMIT + 64).map(lambda n: message("长" * n).encode()),
)


@fuzz_settings(500)
@given(body=bodies)
async def test_any_body_signed_in_plain_mode(
    channel: Channel, boundary: Boundary, body: bytes
) -> None:
    await check(await channel(False), boundary, target(signed_query()), body)


query_keys = st.sampled_from(
    ["signature", "timestamp", "nonce", "encrypt_type", "msg_signature", "openid", "x"]
)
query_values = st.one_of(
    unicode_text,
    st.sampled_from(["aes", "AES", "raw", "", "0" * 40, "1e9", "-1", "%", "%ff"]),
    st.integers().map(str),
)
raw_queries = st.one_of(
    # Printable ASCII: Sanic drops a connection whose request target holds other
    # bytes before any route runs (test_bytes_sanic_cannot_parse_close_at_once).
    st.binary(max_size=200).map(lambda b: bytes(c for c in b if 0x20 < c < 0x7F)),
    st.lists(st.tuples(query_keys, query_values), max_size=8).map(
        lambda pairs: "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs).encode()
    ),
)


@fuzz_settings(400)
@given(query=raw_queries)
async def test_any_query_string(
    channel: Channel, boundary: Boundary, query: bytes
) -> None:
    served = await channel(True)
    status, _ = await check(served, boundary, PATH + b"?" + query, b"<xml/>")
    assert status in REFUSALS  # nothing unsigned gets through


@fuzz_settings(400)
@given(
    encrypt=st.one_of(damaged_ciphertexts(), xml_documents(), st.just("")),
    encrypt_type=st.sampled_from(["aes", "AES", "Aes", "raw", "", "des", "aes "]),
    signature=st.sampled_from(["valid", "random", "missing"]),
    forged=unicode_text,
    wrapped=st.booleans(),
)
async def test_any_encryption_in_safe_mode(
    channel: Channel,
    boundary: Boundary,
    encrypt: str,
    encrypt_type: str,
    signature: str,
    forged: str,
    wrapped: bool,
) -> None:
    served = await channel(True)
    if encrypt.startswith("<") and served.sim.crypto is not None:
        # A well-signed ciphertext of hostile plaintext.
        envelope = served.sim.crypto.encrypt(encrypt, "1", "1")
        encrypt = parse_xml(envelope, 1 << 20)["Encrypt"]
    query = {**signed_query(), "encrypt_type": encrypt_type}
    if signature == "valid":
        query["msg_signature"] = sign(
            TOKEN, query["timestamp"], query["nonce"], encrypt
        )
    elif signature == "random":
        query["msg_signature"] = forged
    body = to_xml({"ToUserName": "gh_fuzz", "Encrypt": encrypt}) if wrapped else encrypt
    await check(served, boundary, target(query), body.encode("utf-8"))


@fuzz_settings(300)
@given(
    content=xml_text.filter(lambda t: "\ufffe" not in t and "\uffff" not in t),
    aes=st.booleans(),
)
async def test_any_text_is_answered_to_its_sender(
    channel: Channel, boundary: Boundary, content: str, aes: bool
) -> None:
    served = await channel(aes)
    xml = message(content)
    sender = parse_xml(xml, 1 << 20)["FromUserName"]
    query, body = served.sim.signed(xml, encrypt=aes)
    status, answer = await check(served, boundary, target(query), body.encode())
    assert status == 200, answer
    if not content.strip():
        assert answer == SUCCESS.encode()
        return
    reply = passive_fields(served, Reply(status, answer.decode("utf-8")), aes)
    assert (reply["ToUserName"], reply["FromUserName"]) == (sender, "gh_fuzz")
    assert reply["Content"] == ECHO + content.strip()


async def test_a_huge_signed_timestamp_is_a_typed_refusal(
    channel: Channel, boundary: Boundary
) -> None:
    served = await channel(False)
    query = signed_query(timestamp="1" + "0" * 400)
    status, _ = await check(served, boundary, target(query), message("hi").encode())
    assert status == 403


@pytest.mark.parametrize("raw", [b"\x00", b"\xff\xfe", "签名".encode(), b"\x7f"])
async def test_bytes_sanic_cannot_parse_close_at_once(
    channel: Channel, raw: bytes
) -> None:
    """Bytes Sanic cannot parse in the request line: closed at once, nothing hangs.

    Sanic 21.12 closes the connection without an answer (and logs it) before any
    route runs; the next message is answered. A front proxy answers these 400.
    """
    served = await channel(False)
    started = time.monotonic()
    status, _ = await post(served, PATH + b"?x=" + raw, b"<xml/>")
    assert time.monotonic() - started < WECHAT_TIMEOUT_S
    assert status in (0, 400)
    query, body = served.sim.signed(message("还在吗"), encrypt=False)
    status, answer = await post(served, target(query), body.encode())
    assert status == 200 and "还在吗".encode() in answer
