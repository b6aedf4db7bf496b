"""The ``reply`` peer pushes through the trained bot, via the simulator (safe mode).

``test_peer_fixtures.py`` replays all 43 pushes with a stand-in for Rasa; here the
six that must be answered (texts and transcribed voice messages) go to the real
bot that ``make run`` starts (``bot`` of ``test_wechat_e2e``). Marked ``e2e``:
``make test`` runs it after ``rasa train``.

Only two things of each push change: the sender, so that each gets its own tracker
(and rate limit), and the MsgId, which several peer suites share
(``1234567890123456``), so that one bot takes them as separate messages.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from typing import Any

import pytest

from tests.channels import test_wechat_e2e
from tests.channels.peer_fixtures import FIXTURES, MISSING, PARSE_LIMIT, peer_fixture
from tools.wechat_sim.simulator import WECHAT_TIMEOUT_S
from wechat.xml_safety import parse_xml

pytestmark = pytest.mark.e2e

# The module-scoped bot of the WeChat e2e tests (started once per module).
bot = test_wechat_e2e.bot
REPLY_NAMES = [
    name for name, peer in sorted(FIXTURES.items()) if peer.expect == "reply"
] or [MISSING]
_SENDER = re.compile(r"(<FromUserName>\s*(?:<!\[CDATA\[)?)[^<\]]*")
_MSG_ID = re.compile(r"(<MsgI[dD]>)\s*\d+\s*(</MsgI[dD]>)")
_msg_ids = itertools.count(int(time.time() * 1000) * 1000 + 7)


def readdressed(xml: str, sender: str) -> str:
    """``xml`` with its sender and MsgId replaced, everything else verbatim."""
    xml, senders = _SENDER.subn(lambda m: m.group(1) + sender, xml, count=1)
    assert senders == 1, "a reply push names its sender"
    return _MSG_ID.sub(lambda m: f"{m.group(1)}{next(_msg_ids)}{m.group(2)}", xml)


# Up to 5 s for the customer-service messages that follow a turn.
API_WAIT_TRIES = 50


@pytest.mark.parametrize("name", REPLY_NAMES)
async def test_the_trained_bot_answers_each_reply_push(
    bot: dict[str, Any], name: str
) -> None:
    peer = peer_fixture(name)
    sender = f"e2e-peer-{name}"
    xml = readdressed(peer.body.decode("utf-8"), sender)
    assert parse_xml(xml, PARSE_LIMIT)["FromUserName"] == sender
    async with test_wechat_e2e.simulator(bot) as sim:
        query, body = sim.signed(xml, encrypt=True)
        reply = await sim.post_raw(query, body)
    assert reply.status == 200, (reply.status, reply.body)
    assert reply.elapsed_s < WECHAT_TIMEOUT_S
    if reply.fields:
        # Passive: encrypted (the simulator checked and decrypted it), to the sender.
        assert "<Encrypt>" in reply.body
        assert reply.fields["ToUserName"] == sender
        assert reply.fields["FromUserName"] == peer.fields["ToUserName"]
    # A slower turn answers through the customer-service API when it ends, and
    # so does a transfer to a human agent (the passive answer carries no text):
    # those messages may still be on their way when the turn is over.
    await test_wechat_e2e.turn_of(bot, sender, peer.said)
    for _ in range(API_WAIT_TRIES):
        answer = [reply.text or "", *bot["api"].texts_for(sender)]
        if "".join(answer).strip():
            break
        await asyncio.sleep(0.1)
    assert "".join(answer).strip(), f"the bot said nothing to {peer.said!r}"
