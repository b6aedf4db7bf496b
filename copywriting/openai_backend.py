"""The ``openai`` copy backend: any OpenAI-compatible chat endpoint.

vLLM, Ollama (``/v1``), LM Studio or a hosted model: ``POST {base_url}/chat/
completions`` with the model name and an optional bearer key. Uses aiohttp, so
the event loop is never blocked; the guard's timeout decides how long the
customer waits, the request timeout only ends the HTTP call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from copywriting.generator import GeneratorError
from copywriting.prompts import facts_block, instructions
from copywriting.request import CopyRequest

logger = logging.getLogger(__name__)

TEMPERATURE = 0.8


class OpenAIGenerator:
    """Generates copy through an OpenAI-compatible chat completions endpoint.

    Args:
        base_url: Endpoint root, e.g. ``http://127.0.0.1:8000/v1``.
        model: Model name the server knows.
        api_key: Bearer key, if the server wants one.
        max_tokens: Length of one copy in tokens.
        request_timeout_s: Upper bound of one HTTP call.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        max_tokens: int = 120,
        request_timeout_s: float = 10.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.max_tokens = max_tokens
        self.timeout = aiohttp.ClientTimeout(total=request_timeout_s)

    def payload(self, request: CopyRequest) -> dict[str, Any]:
        """The JSON body for ``request``."""
        return {
            "model": self.model,
            "messages": [
                {"role": "system", "content": "\n".join(instructions(request))},
                {"role": "user", "content": facts_block(request)},
            ],
            "max_tokens": self.max_tokens,
            "temperature": TEMPERATURE,
            "stream": False,
        }

    async def generate(self, request: CopyRequest) -> str:
        """Copy for ``request`` from the endpoint.

        Raises:
            GeneratorError: The server is unreachable, answers an error status or
                a body without a message.
        """
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.post(
                    self.url, json=self.payload(request), headers=headers
                ) as response,
            ):
                if response.status != 200:
                    detail = (await response.text())[:200]
                    raise GeneratorError(f"HTTP {response.status}: {detail}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
            raise GeneratorError(f"{self.url}: {e!r}") from e
        try:
            content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as e:
            raise GeneratorError(f"unexpected answer from {self.url}") from e
        if not isinstance(content, str):
            raise GeneratorError(f"unexpected answer from {self.url}")
        return content
