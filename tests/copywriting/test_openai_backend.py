"""The ``openai`` backend against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from copywriting.generator import (
    MODEL_VARIANT,
    TEMPLATE_VARIANT,
    GeneratorError,
    GuardedGenerator,
)
from copywriting.openai_backend import OpenAIGenerator
from copywriting.request import CopyRequest
from copywriting.templates import TemplateGenerator

REQUEST = CopyRequest("campaign", "camp-a", "新品体验官招募", ("免费试用 30 天",))
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answer(content: str) -> dict[str, Any]:
    return {"choices": [{"message": {"role": "assistant", "content": content}}]}


class FakeServer:
    """An OpenAI-compatible endpoint whose behaviour each test sets."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, Any], str | None]] = []
        self.handler: Handler = self.ok

    async def ok(self, request: web.Request) -> web.Response:
        return web.json_response(_answer("新品体验官招募中，国家级好机免费试用！"))

    async def route(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((await request.json(), request.headers.get("Authorization")))
        return await self.handler(request)


@pytest.fixture
async def server() -> AsyncIterator[tuple[FakeServer, str]]:
    fake = FakeServer()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.route)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


async def test_chat_completion_with_model_and_key(
    server: tuple[FakeServer, str],
) -> None:
    fake, url = server
    backend = OpenAIGenerator(url, "qwen-test", api_key="sk-local")
    copy = await GuardedGenerator(backend, TemplateGenerator()).generate(REQUEST)
    assert copy.variant == MODEL_VARIANT
    assert copy.text == "新品体验官招募中，好机免费试用！"
    body, auth = fake.seen[0]
    assert body["model"] == "qwen-test" and auth == "Bearer sk-local"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "新品体验官招募" in body["messages"][1]["content"]


async def test_slow_server_gets_the_template_within_the_timeout(
    server: tuple[FakeServer, str],
) -> None:
    fake, url = server

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response(_answer("late"))

    fake.handler = slow
    guard = GuardedGenerator(OpenAIGenerator(url, "m"), TemplateGenerator(), 0.3)
    loop = asyncio.get_running_loop()
    start = loop.time()
    copy = await guard.generate(REQUEST)
    assert loop.time() - start < 1.5
    assert copy.variant == TEMPLATE_VARIANT and "新品体验官招募" in copy.text


@pytest.mark.parametrize(
    "response",
    [
        web.Response(status=500, text="overloaded"),
        web.Response(text="not json"),
        web.json_response({"choices": []}),
        web.json_response(_answer("")),
    ],
)
async def test_bad_answers_fall_back_to_the_template(
    server: tuple[FakeServer, str], response: web.Response
) -> None:
    fake, url = server

    async def bad(request: web.Request) -> web.Response:
        return response

    fake.handler = bad
    guard = GuardedGenerator(OpenAIGenerator(url, "m"), TemplateGenerator())
    assert (await guard.generate(REQUEST)).variant == TEMPLATE_VARIANT


async def test_unreachable_server_is_a_generator_error() -> None:
    backend = OpenAIGenerator("http://127.0.0.1:9/v1", "m", request_timeout_s=2)
    with pytest.raises(GeneratorError):
        await backend.generate(REQUEST)


def test_payload_is_json_serialisable() -> None:
    assert json.dumps(OpenAIGenerator("http://x/v1", "m").payload(REQUEST))
