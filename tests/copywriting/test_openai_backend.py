"""The ``openai`` backend against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from copywriting.generator import GeneratorError
from copywriting.openai_backend import OpenAIGenerator
from copywriting.request import CopyRequest

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
    # Raw: the checks, not the backend, judge the wording.
    assert await backend.generate(REQUEST) == "新品体验官招募中，国家级好机免费试用！"
    body, auth = fake.seen[0]
    assert body["model"] == "qwen-test" and auth == "Bearer sk-local"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "新品体验官招募" in body["messages"][1]["content"]


async def test_a_slow_server_is_an_error_after_the_request_timeout(
    server: tuple[FakeServer, str],
) -> None:
    fake, url = server

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response(_answer("late"))

    fake.handler = slow
    backend = OpenAIGenerator(url, "m", request_timeout_s=0.3)
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(GeneratorError):
        await backend.generate(REQUEST)
    assert loop.time() - start < 1.5


@pytest.mark.parametrize(
    "response",
    [
        web.Response(status=500, text="overloaded"),
        web.Response(text="not json"),
        web.json_response({"choices": []}),
        web.json_response({"choices": [{"message": {"content": None}}]}),
    ],
)
async def test_bad_answers_are_generator_errors(
    server: tuple[FakeServer, str], response: web.Response
) -> None:
    fake, url = server

    async def bad(request: web.Request) -> web.Response:
        return response

    fake.handler = bad
    with pytest.raises(GeneratorError):
        await OpenAIGenerator(url, "m").generate(REQUEST)


async def test_unreachable_server_is_a_generator_error() -> None:
    backend = OpenAIGenerator("http://127.0.0.1:9/v1", "m", request_timeout_s=2)
    with pytest.raises(GeneratorError):
        await backend.generate(REQUEST)


def test_payload_is_json_serialisable() -> None:
    assert json.dumps(OpenAIGenerator("http://x/v1", "m").payload(REQUEST))
