"""43 real WeChat pushes replayed through the webhook, in plain and in safe mode.

Each push of ``peer_pushes/`` (see ``tests.channels.peer_fixtures``) is
posted as WeChat posts it: signed in plain mode, and AES-encrypted with
``msg_signature`` in safe mode, to the real ``WeChatInput`` in a Sanic server on
loopback. The channel is the subject here: Rasa's handler is ``StubAgent``, which
answers with the text it got, so a reply proves which text reached Rasa. The same
``reply`` pushes go through the trained bot in ``test_peer_fixtures_e2e.py``.

Every push: answered within WeChat's 5 s, never a 5xx, and any passive reply goes
back to the sender (``ToUserName`` is the push's ``FromUserName``) from the account
the push was addressed to (``FromUserName`` is the push's ``ToUserName``); in safe
mode it is encrypted, signed and decrypts.
"""

from __future__ import annotations

import pytest

from tests.channels.conftest import Served, ServeFactory
from tests.channels.peer_fixtures import (
    COUNT,
    EXPECTATIONS,
    FIXTURES,
    MISSING,
    NAMES,
    PARSE_LIMIT,
    PeerFixture,
    peer_fixture,
)
from tools.wechat_sim.simulator import WECHAT_TIMEOUT_S, Reply
from wechat.rendering import SUCCESS
from wechat.signature import check_signature, sign
from wechat.xml_safety import parse_xml

ECHO = "收到："
REPLY_NAMES = [
    name for name, peer in sorted(FIXTURES.items()) if peer.expect == "reply"
] or [MISSING]
# Fields of a safe-mode reply envelope; anything else would be plaintext leaking.
ENVELOPE = {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}


def passive_fields(served: Served, reply: Reply, encrypted: bool) -> dict[str, str]:
    """The fields of a passive reply; in safe mode checked and decrypted."""
    envelope = parse_xml(reply.body, PARSE_LIMIT)
    if not encrypted:
        assert "Encrypt" not in envelope
        return envelope
    assert set(envelope) == ENVELOPE, "a safe-mode reply must be encrypted"
    crypto = served.sim.crypto
    assert crypto is not None
    check_signature(
        envelope["MsgSignature"],
        served.sim.token,
        envelope["TimeStamp"],
        envelope["Nonce"],
        envelope["Encrypt"],
    )
    plaintext = crypto.decrypt(
        envelope["Encrypt"],
        envelope["MsgSignature"],
        envelope["TimeStamp"],
        envelope["Nonce"],
    )
    return parse_xml(plaintext, PARSE_LIMIT)


def check_answer(
    served: Served, peer: PeerFixture, reply: Reply, encrypted: bool
) -> None:
    """What every push must get, then what its ``expect`` asks for."""
    assert reply.status != 0, f"no answer within {WECHAT_TIMEOUT_S:g} s"
    assert reply.elapsed_s < WECHAT_TIMEOUT_S
    assert reply.status < 500, (reply.status, reply.body)
    if peer.expect in ("reply", "ok"):
        assert reply.status == 200, (reply.status, reply.body)
    if reply.status != 200 or reply.body == SUCCESS:
        assert peer.expect != "reply", f"{peer.name} got {reply.body!r}, no reply"
        return
    fields = passive_fields(served, reply, encrypted)
    assert fields["ToUserName"] == peer.fields["FromUserName"]
    assert fields["FromUserName"] == peer.fields["ToUserName"]
    if peer.expect == "reply":
        assert fields["MsgType"] == "text"
        assert fields["Content"] == ECHO + peer.said
        assert served.agent.texts() == [peer.said]


def test_the_index_is_complete() -> None:
    peer_fixture(NAMES[0])  # reports a missing folder
    assert len(FIXTURES) == COUNT
    assert {peer.expect for peer in FIXTURES.values()} == set(EXPECTATIONS)
    for peer in FIXTURES.values():
        assert peer.body.strip(), peer.name
    replies = [peer for peer in FIXTURES.values() if peer.expect == "reply"]
    assert all(peer.said for peer in replies)


@pytest.mark.parametrize("name", NAMES)
async def test_plain_mode(serve: ServeFactory, name: str) -> None:
    peer = peer_fixture(name)
    served = await serve()
    query, _ = served.sim.signed("", encrypt=False)
    reply = await served.sim.post_raw(query, peer.body)
    check_answer(served, peer, reply, encrypted=False)


@pytest.mark.parametrize("name", NAMES)
async def test_safe_mode(serve: ServeFactory, name: str) -> None:
    peer = peer_fixture(name)
    served = await serve(aes=True)
    query, body = served.sim.signed(peer.body.decode("utf-8"), encrypt=True)
    assert query["encrypt_type"] == "aes" and "msg_signature" in query
    reply = await served.sim.post_raw(query, body)
    check_answer(served, peer, reply, encrypted=True)


async def test_a_foreign_accounts_ciphertext_is_refused(serve: ServeFactory) -> None:
    """The compat-mode capture, verbatim: its ``Encrypt`` is another account's."""
    peer = peer_fixture("file_compat_foreign_encrypt")
    served = await serve(aes=True)
    query, _ = served.sim.signed("", encrypt=False)
    query.update(
        encrypt_type="aes",
        msg_signature=sign(
            served.sim.token, query["timestamp"], query["nonce"], peer.fields["Encrypt"]
        ),
    )
    reply = await served.sim.post_raw(query, peer.body)
    assert reply.status == 403, (reply.status, reply.body)
    assert served.agent.messages == []


@pytest.mark.parametrize("name", REPLY_NAMES)
async def test_retries_get_the_same_answer_and_one_turn(
    serve: ServeFactory, name: str
) -> None:
    """WeChat's retry (the same push, signed anew) is answered alike, one turn."""
    peer = peer_fixture(name)
    served = await serve(aes=True)
    text = peer.body.decode("utf-8")
    first = await served.sim.post_raw(*served.sim.signed(text, encrypt=True))
    again = await served.sim.post_raw(*served.sim.signed(text, encrypt=True))
    check_answer(served, peer, first, encrypted=True)
    assert again.status == 200
    assert passive_fields(served, again, True)["Content"] == ECHO + peer.said
    await served.settle()
    assert served.agent.texts() == [peer.said]
