"""Factories for the WeChat channel tests: settings, a stub agent, a served channel.

Every test that talks HTTP runs the channel in a real Sanic server on a loopback
port, with ``FakeWeChatApi`` (also on loopback) standing in for WeChat's API server
and ``WeChatSimulator`` standing in for WeChat's message server. No trained model:
``StubAgent`` plays Rasa's ``on_new_message``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from channels.turns import TrackerStoreSource, TurnRunner
from channels.wechat import WeChatInput
from tests.wechat.fakes import ACCOUNT, AES_KEY, APP_ID, APP_SECRET, TOKEN
from tools.wechat_sim.fake_api import FakeWeChatApi
from tools.wechat_sim.local_server import LocalServer, serve_locally
from tools.wechat_sim.simulator import WeChatSimulator
from wechat.config import WeChatSettings
from wechat.storage import KeyValueStore, MemoryStore
from wechat.texts import ChannelTexts

Sanic.test_mode = True

Respond = Callable[[UserMessage], list[dict[str, Any]]]
# The channel's own texts, as the project's domain has them.
TEXTS = ChannelTexts.from_domain_file(Path(__file__).parents[2] / "domain.yml")


def echo(message: UserMessage) -> list[dict[str, Any]]:
    """Answers every message with one text naming it."""
    return [{"text": f"收到：{message.text}"}]


class StubAgent:
    """Rasa's ``on_new_message`` without a model: records messages, replies at once.

    Attributes:
        messages: every user message it received (the tracker's user events).
        finished: how many of those turns have sent all their replies.
    """

    def __init__(self, respond: Respond = echo, delay_s: float = 0.0) -> None:
        self.respond = respond
        self.delay_s = delay_s
        self.messages: list[UserMessage] = []
        self.finished = 0

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        for reply in self.respond(message):
            await message.output_channel.send_response(message.sender_id, dict(reply))
        self.finished += 1

    def texts(self) -> list[str | None]:
        return [m.text for m in self.messages]


def make_settings(**overrides: Any) -> WeChatSettings:
    """Settings with the test credentials; keyword arguments override any key."""
    values: dict[str, Any] = {
        "token": TOKEN,
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "account": ACCOUNT,
    }
    values.update(overrides)
    return WeChatSettings.from_credentials(values)


@dataclass
class Served:
    """A channel served on loopback, with its stub agent and a simulator."""

    url: str
    channel: WeChatInput
    agent: StubAgent
    api: FakeWeChatApi
    sim: WeChatSimulator

    @property
    def webhook(self) -> str:
        return self.url + "/webhooks/wechat/webhook"

    async def settle(self) -> None:
        """Waits until every turn and delivery has finished."""
        await self.channel.runner.drain()


ServeFactory = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve(fake_api: FakeWeChatApi, tmp_path: Path) -> AsyncIterator[ServeFactory]:
    """Starts ``WeChatInput`` in a real Sanic server on 127.0.0.1.

    Keyword arguments: ``agent`` (a ``StubAgent``), ``store`` (a ``KeyValueStore``),
    ``aes`` (use AES safe mode), ``turn_timeout_s`` and ``tracker_store`` (of the
    turn runner, whose retry queue lies in ``tmp_path``), and any settings key.
    """
    servers: list[LocalServer] = []
    simulators: list[WeChatSimulator] = []

    async def factory(
        agent: StubAgent | None = None,
        store: KeyValueStore | None = None,
        aes: bool = False,
        turn_timeout_s: float = 30.0,
        tracker_store: TrackerStoreSource | None = None,
        **overrides: Any,
    ) -> Served:
        if aes:
            overrides.setdefault("encoding_aes_key", AES_KEY)
        overrides.setdefault("api_base_url", fake_api.base_url)
        settings = make_settings(**overrides)
        channel = WeChatInput(settings, store=store or MemoryStore())
        channel.runner = TurnRunner(
            settings,
            channel.store,
            channel.api,
            texts=TEXTS,
            retry_queue_path=tmp_path / f"retry_{uuid.uuid4().hex}.db",
            turn_timeout_s=turn_timeout_s,
            tracker_store=tracker_store,
        )
        stub = agent or StubAgent()
        app = Sanic(f"wechat_test_{uuid.uuid4().hex}")
        app.blueprint(channel.blueprint(stub), url_prefix="/webhooks/wechat")
        local = await serve_locally(app)
        servers.append(local)
        url = local.url
        sim = WeChatSimulator(
            url + "/webhooks/wechat/webhook",
            settings.token,
            settings.app_id,
            encoding_aes_key=settings.encoding_aes_key,
            account=ACCOUNT,
        )
        simulators.append(sim)
        return Served(url=url, channel=channel, agent=stub, api=fake_api, sim=sim)

    yield factory
    for sim in simulators:
        await sim.close()
    for server in servers:
        await server.stop()
