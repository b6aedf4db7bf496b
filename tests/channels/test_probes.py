"""The channel's /metrics and /ready routes, after real turns through the webhook."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sanic import Sanic

from channels.wechat import WeChatInput
from telemetry.exposition import TOKEN_ENV
from tests.channels.asgi_client import AsgiClient
from tests.channels.conftest import ServeFactory, StubAgent, make_settings
from tests.wechat.fakes import APP_ID, TOKEN
from wechat.dedup import Deduplicator, message_key
from wechat.storage import FailoverStore, KeyValueStore, MemoryStore, RedisStore

METRICS = "/webhooks/wechat/metrics"
READY = "/webhooks/wechat/ready"
# Sanic notes that after_server_stop runs at ASGI shutdown; that is what we want.
pytestmark = pytest.mark.filterwarnings("ignore:You have set a listener:UserWarning")


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scrape: str, name: str, **labels: str) -> float:
    return parse(scrape).get((name, frozenset(labels.items())), 0.0)


async def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers=headers) as answer,
    ):
        return answer.status, await answer.text()


async def test_a_turn_and_its_retry_show_in_the_metrics(serve: ServeFactory) -> None:
    served = await serve()
    status, before = await get(served.url + METRICS)
    assert status == 200
    message = served.sim.text("o_metrics_user", "你好")
    first = await served.sim.post(message)
    retry = await served.sim.post(message)  # WeChat's retry: same MsgId
    await served.settle()
    assert first.text == retry.text == "收到：你好"
    status, after = await get(served.url + METRICS)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("aurora_replies_total", kind="passive") == 1
    assert delta("aurora_dedup_hits_total") == 1
    assert delta("aurora_stage_seconds_count", stage="turn") == 1
    assert delta("aurora_stage_seconds_count", stage="verify") == 2
    assert delta("aurora_stage_seconds_count", stage="reply") == 2
    assert delta("aurora_late_turns_total") == 0
    # Counts only: no openid, no text reaches a scrape.
    assert "o_metrics_user" not in after and "你好" not in after


async def test_a_late_turn_is_answered_through_the_api_and_counted(
    serve: ServeFactory,
) -> None:
    served = await serve(agent=StubAgent(delay_s=0.6), reply_deadline_s=0.3)
    _, before = await get(served.url + METRICS)
    reply = await served.sim.post(served.sim.text("o_late_user", "慢"))
    await served.settle()
    assert reply.body == "success"
    _, after = await get(served.url + METRICS)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("aurora_late_turns_total") == 1
    assert delta("aurora_replies_total", kind="api") == 1
    assert delta("aurora_stage_seconds_count", stage="delivery") == 1


async def test_wechat_api_errors_are_counted_by_errcode(serve: ServeFactory) -> None:
    served = await serve(agent=StubAgent(delay_s=0.6), reply_deadline_s=0.3)
    _, before = await get(served.url + METRICS)
    served.api.fail_for("o_gone_user", 45015)
    await served.sim.post(served.sim.text("o_gone_user", "还在吗"))
    await served.settle()
    _, after = await get(served.url + METRICS)
    name = "aurora_wechat_api_errors_total"
    assert (
        value(after, name, errcode="45015") - value(before, name, errcode="45015") == 1
    )


async def test_with_a_token_only_a_bearer_may_scrape(
    serve: ServeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "scrape-secret")
    served = await serve()
    assert (await get(served.url + METRICS))[0] == 401
    wrong = {"Authorization": "Bearer guess"}
    assert (await get(served.url + METRICS, wrong))[0] == 401
    right = {"Authorization": "Bearer scrape-secret"}
    status, text = await get(served.url + METRICS, right)
    assert status == 200 and "aurora_replies_total" in text


class ReadyAgent:
    """Rasa's agent as readiness sees it."""

    def __init__(self, ready: bool) -> None:
        self.ready = ready

    def is_ready(self) -> bool:
        return self.ready


@asynccontextmanager
async def channel_app(
    store: KeyValueStore, agent: ReadyAgent | None
) -> AsyncIterator[AsgiClient]:
    channel = WeChatInput(make_settings(api_base_url="http://127.0.0.1:9"), store=store)
    app = Sanic(f"wechat_probes_{uuid.uuid4().hex}", configure_logging=False)
    if agent is not None:
        app.ctx.agent = agent
    app.blueprint(channel.blueprint(StubAgent()), url_prefix="/webhooks/wechat")
    async with AsgiClient(app) as client:
        yield client


def closed_redis_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (None, {"status": "not ready", "problems": ["agent: no model loaded yet"]}),
        (
            ReadyAgent(False),
            {"status": "not ready", "problems": ["agent: no model loaded yet"]},
        ),
        (ReadyAgent(True), {"status": "ready"}),
    ],
)
async def test_ready_once_the_agent_is_loaded(
    agent: ReadyAgent | None, expected: dict[str, Any]
) -> None:
    async with channel_app(MemoryStore(), agent) as client:
        status, body = await client.request("GET", READY)
    assert status == (200 if expected["status"] == "ready" else 503)
    assert json.loads(body) == expected


class ColdAgent(ReadyAgent):
    """An agent whose first run waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__(True)
        self.release = asyncio.Event()
        self.parsed: list[str] = []
        self.processor = self
        self.domain = None
        self.predicted = 0

    async def parse_message(self, text: str) -> dict[str, Any]:
        self.parsed.append(text)
        await self.release.wait()
        return {"text": text, "intent": {"name": "greet", "confidence": 1.0}}

    def predict_next_with_tracker(self, tracker: Any) -> None:
        self.predicted += 1


async def test_not_ready_until_the_model_ran_once() -> None:
    agent = ColdAgent()
    async with channel_app(MemoryStore(), agent) as client:
        status, body = await client.request("GET", READY)
        assert status == 503
        agent.release.set()
        for _ in range(50):
            status, body = await client.request("GET", READY)
            if status == 200:
                break
            await asyncio.sleep(0.02)
    assert status == 200 and json.loads(body) == {"status": "ready"}
    assert agent.parsed == ["你好"] and agent.predicted == 1


async def test_not_ready_while_redis_is_really_unavailable() -> None:
    store = FailoverStore(RedisStore.from_url(closed_redis_url(), "test:", 0.3))
    async with channel_app(store, ReadyAgent(True)) as client:
        status, body = await client.request("GET", READY)
        # The webhook itself still answers, from memory.
        assert (await client.request("GET", "/webhooks/wechat/"))[0] == 200
    assert status == 503
    assert json.loads(body) == {
        "status": "not ready",
        "problems": ["store: does not answer"],
    }


async def test_rejected_requests_are_counted_by_reason() -> None:
    async with channel_app(MemoryStore(), ReadyAgent(True)) as client:
        _, before = await client.request("GET", METRICS)
        query = {"signature": "0" * 40, "timestamp": "1", "nonce": "n"}
        status, _ = await client.request("POST", "/webhooks/wechat/webhook", query)
        assert status == 403
        _, after = await client.request("GET", METRICS)
    name, labels = "aurora_requests_rejected_total", {"reason": "InvalidSignature"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1
    assert TOKEN not in after


async def test_a_turn_taken_over_from_a_dead_replica_is_counted(
    serve: ServeFactory,
) -> None:
    store = MemoryStore()
    served = await serve(store=store, claim_lease_s=0.3, store_timeout_s=0.1)
    _, before = await get(served.url + METRICS)
    message = served.sim.text("o_takeover_user", "还在吗")
    # A replica claimed the message and died: nobody renews its lease.
    dead = Deduplicator(store, 60, APP_ID, lease_s=0.3)
    assert await dead.claim("o_takeover_user", message_key(message))
    assert (await served.sim.post(message)).text == "收到：还在吗"
    await served.settle()
    _, after = await get(served.url + METRICS)
    for name in ("aurora_takeovers_total", "aurora_dedup_hits_total"):
        assert value(after, name) - value(before, name) == 1
