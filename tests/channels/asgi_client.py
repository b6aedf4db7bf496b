"""An in-process HTTP client for Sanic apps over ASGI (no socket).

``sanic-testing`` (Sanic's ``app.test_client``/``asgi_client``) is not in the pinned
set, so this drives the app through its ASGI interface the same way: lifespan
startup, one ``http`` scope per request, lifespan shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlencode

from sanic import Sanic


class AsgiClient:
    """Sends requests straight into ``app`` (``await app(scope, receive, send)``)."""

    def __init__(self, app: Sanic) -> None:
        self.app = app
        self._lifespan: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __aenter__(self) -> AsgiClient:
        self._lifespan = asyncio.ensure_future(
            self.app({"type": "lifespan"}, self._inbox.get, self._outbox.put)
        )
        await self._inbox.put({"type": "lifespan.startup"})
        assert (await self._outbox.get())["type"] == "lifespan.startup.complete"
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._outbox.get()
        if self._lifespan is not None:
            # Sanic 21.12 falls through into request handling once the lifespan
            # protocol ends (uvicorn logs and ignores this AttributeError).
            with contextlib.suppress(AttributeError):
                await self._lifespan

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: bytes | str = b"",
    ) -> tuple[int, str]:
        """Returns the status and text of one request."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": urlencode(params or {}).encode(),
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"text/xml"),
                (b"content-length", str(len(data)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        pending = [{"type": "http.request", "body": data, "more_body": False}]
        done = asyncio.Event()
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop(0)
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await self.app(scope, receive, send)
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        chunks = [m.get("body", b"") for m in sent if m["type"] == "http.response.body"]
        return int(status), b"".join(chunks).decode("utf-8", "replace")
