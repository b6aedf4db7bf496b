"""A stand-in for WeChat's API server on 127.0.0.1, for the simulator and tests.

Serves ``GET /cgi-bin/token`` and ``POST /cgi-bin/message/custom/send`` as WeChat
does (errcode JSON, tokens that can expire), records every delivery, and injects
faults on request: expire the current token (40001), answer the next sends with
any errcode (45015, 48001, -1 "system busy"...) or HTTP status (502...), or
answer slowly.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

INVALID_TOKEN = 40001
INVALID_APP_CREDENTIAL = 40125


@dataclass
class Delivery:
    """One customer-service message received by the stand-in."""

    openid: str
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        """The text of a text message, else a short description."""
        kind = self.body.get("msgtype", "")
        if kind == "text":
            return str(self.body.get("text", {}).get("content", ""))
        if kind == "news":
            articles = self.body.get("news", {}).get("articles", [])
            return "[图文] " + " | ".join(str(a.get("title", "")) for a in articles)
        if kind == "image":
            return f"[图片 {self.body.get('image', {}).get('media_id', '')}]"
        return f"[{kind}]"


class FakeWeChatApi:
    """WeChat's API server, in this process, on a loopback port.

    Args:
        app_id: the AppID tokens are issued to.
        app_secret: the AppSecret it checks.
        on_delivery: called with every accepted delivery (the console prints them).
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.on_delivery = on_delivery
        self.deliveries: list[Delivery] = []
        self.token_fetches = 0
        self.send_calls = 0
        self.delay_s = 0.0
        self._generation = 0
        self._valid: set[str] = set()
        self._errors: list[int] = []
        self._http_errors: list[int] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """The URL to configure as the channel's ``api_base_url``."""
        return f"http://127.0.0.1:{self.port}"

    def expire_tokens(self) -> None:
        """Makes every issued token invalid: the next send gets 40001."""
        self._valid.clear()

    def fail_next(self, errcode: int, times: int = 1) -> None:
        """Answers the next ``times`` sends with ``errcode``."""
        self._errors.extend([errcode] * times)

    def fail_http_next(self, status: int, times: int = 1) -> None:
        """Answers the next ``times`` sends with HTTP ``status`` and an HTML page."""
        self._http_errors.extend([status] * times)

    def texts_for(self, openid: str) -> list[str]:
        """Texts delivered to ``openid`` so far, in order."""
        return [d.text for d in self.deliveries if d.openid == openid]

    async def start(self, port: int = 0) -> FakeWeChatApi:
        """Starts serving on 127.0.0.1 (``port`` 0 picks a free one)."""
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        return self

    async def stop(self) -> None:
        """Stops serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _token(self, request: web.Request) -> web.Response:
        self.token_fetches += 1
        if (
            request.query.get("appid") != self.app_id
            or request.query.get("secret") != self.app_secret
        ):
            return _json(
                {"errcode": INVALID_APP_CREDENTIAL, "errmsg": "invalid appsecret"}
            )
        self._generation += 1
        token = f"FAKE-TOKEN-{self._generation}"
        self._valid.add(token)
        return _json({"access_token": token, "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        self.send_calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self._http_errors:
            status = self._http_errors.pop(0)
            return web.Response(
                status=status, text="<html>Bad Gateway</html>", content_type="text/html"
            )
        if request.query.get("access_token") not in self._valid:
            return _json({"errcode": INVALID_TOKEN, "errmsg": "invalid credential"})
        if self._errors:
            errcode = self._errors.pop(0)
            return _json({"errcode": errcode, "errmsg": f"injected {errcode}"})
        body = json.loads((await request.read()).decode("utf-8"))
        delivery = Delivery(openid=str(body.get("touser", "")), body=body)
        self.deliveries.append(delivery)
        if self.on_delivery is not None:
            self.on_delivery(delivery)
        return _json({"errcode": 0, "errmsg": "ok"})


def _json(payload: dict[str, Any]) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False), content_type="application/json"
    )


class FakeWeChatApiThread:
    """The stand-in in a thread with its own loop, for callers that change loops.

    Args:
        app_id: the AppID tokens are issued to.
        app_secret: the AppSecret it checks.
    """

    def __init__(self, app_id: str, app_secret: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.api = FakeWeChatApi(app_id, app_secret)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.api.start(), self.loop).result(10)

    def stop(self) -> None:
        """Stops serving and ends the thread's loop."""
        asyncio.run_coroutine_threadsafe(self.api.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
