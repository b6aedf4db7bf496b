"""The channel driven in process through Sanic's ASGI interface (no socket)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sanic import Sanic

from channels.wechat import WeChatInput
from tests.channels.asgi_client import AsgiClient
from tests.channels.conftest import StubAgent, make_settings
from tests.wechat.fakes import AES_KEY, APP_ID, TOKEN
from tests.wechat.test_xml_safety import BILLION_LAUGHS
from tools.wechat_sim.simulator import WeChatSimulator, to_xml
from wechat.signature import sign
from wechat.storage import MemoryStore

WEBHOOK = "/webhooks/wechat/webhook"
# Sanic notes that after_server_stop runs at ASGI shutdown; that is what we want.
pytestmark = pytest.mark.filterwarnings("ignore:You have set a listener:UserWarning")


@pytest.fixture
async def client() -> AsyncIterator[tuple[AsgiClient, StubAgent]]:
    agent = StubAgent()
    channel = WeChatInput(
        make_settings(encoding_aes_key=AES_KEY, api_base_url="http://127.0.0.1:9"),
        store=MemoryStore(),
    )
    app = Sanic(f"wechat_asgi_{uuid.uuid4().hex}", configure_logging=False)
    app.blueprint(channel.blueprint(agent), url_prefix="/webhooks/wechat")
    async with AsgiClient(app) as asgi:
        yield asgi, agent


@pytest.fixture
def sim() -> WeChatSimulator:
    # Only builds and signs; the ASGI client does the sending.
    return WeChatSimulator("http://testserver" + WEBHOOK, TOKEN, APP_ID, AES_KEY)


async def test_health_and_handshake(client: tuple[AsgiClient, StubAgent]) -> None:
    asgi, _ = client
    assert await asgi.request("GET", "/webhooks/wechat/") == (200, '{"status":"ok"}')
    stamp = str(int(time.time()))
    query = {"signature": sign(TOKEN, stamp, "1"), "timestamp": stamp, "nonce": "1"}
    assert await asgi.request("GET", WEBHOOK, {**query, "echostr": "e"}) == (200, "e")
    bad = {**query, "signature": "0" * 40, "echostr": "e"}
    assert (await asgi.request("GET", WEBHOOK, bad))[0] == 403


async def test_encrypted_text_round_trip(
    client: tuple[AsgiClient, StubAgent], sim: WeChatSimulator
) -> None:
    asgi, agent = client
    query, body = sim.signed(to_xml(sim.text("o_asgi", "你好")), encrypt=True)
    status, text = await asgi.request("POST", WEBHOOK, query, body)
    assert status == 200 and "<Encrypt>" in text
    assert agent.texts() == ["你好"]


async def test_retries_and_hostile_input(
    client: tuple[AsgiClient, StubAgent], sim: WeChatSimulator
) -> None:
    asgi, agent = client
    query, body = sim.signed(to_xml(sim.text("o_asgi", "重试")), encrypt=False)
    answers = [await asgi.request("POST", WEBHOOK, query, body) for _ in range(3)]
    assert len({a for a in answers}) == 1 and answers[0][0] == 200
    assert agent.texts() == ["重试"]
    stamp = str(int(time.time()))
    signed = {"signature": sign(TOKEN, stamp, "n"), "timestamp": stamp, "nonce": "n"}
    assert (await asgi.request("POST", WEBHOOK, signed, BILLION_LAUGHS))[0] == 400
    assert (await asgi.request("POST", WEBHOOK, {}, body))[0] == 403
