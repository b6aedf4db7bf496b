"""A stand-in for WeChat's API server on 127.0.0.1, for the simulator and tests.

Serves ``GET /cgi-bin/token`` and ``POST /cgi-bin/message/custom/send`` as WeChat
does (errcode JSON, tokens that can expire), records every delivery, and injects
faults on request: expire the current token (40001), answer the next sends with
any errcode (45015, 48001, -1 "system busy"...) or HTTP status (502...), or
answer slowly. For campaign sends it also serves
``POST /cgi-bin/message/template/send``, refuses chosen openids with a chosen
errcode and answers 45009 once a daily quota of calls is spent.
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
QUOTA_REACHED = 45009
INVALID_TEMPLATE_ID = 40037


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
        self.tags = FakeTags(lambda token: token in self._valid)
        self._init_campaign_sends()

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
        self.tags.add_routes(app.router)
        app.router.add_post("/cgi-bin/message/template/send", self._template_send)
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
        refusal = self._campaign_refusal(str(body.get("touser", "")))
        if refusal is not None:
            return _json(refusal)
        delivery = Delivery(openid=str(body.get("touser", "")), body=body)
        self.deliveries.append(delivery)
        if self.on_delivery is not None:
            self.on_delivery(delivery)
        return _json({"errcode": 0, "errmsg": "ok"})

    # --- campaign sends: template messages, scripted refusals, a daily quota ---
    # (marketing.sending; tests assert exactly who got what through which API)

    def _init_campaign_sends(self) -> None:
        self.template_deliveries: list[Delivery] = []
        self.daily_quota: int | None = None
        self.quota_used = 0
        self._refusals: dict[str, tuple[int, int | None]] = {}

    def fail_for(self, openid: str, errcode: int, times: int | None = None) -> None:
        """Answers sends (either API) to ``openid`` with ``errcode``.

        Args:
            openid: The follower to refuse.
            errcode: WeChat's answer (45015, 45047, -1...).
            times: How many calls to refuse; None: every call.
        """
        self._refusals[openid] = (errcode, times)

    def set_daily_quota(self, calls: int | None) -> None:
        """After ``calls`` more message calls (both APIs), answers 45009."""
        self.daily_quota = calls
        self.quota_used = 0

    def messages_for(self, openid: str) -> list[Delivery]:
        """Every message (customer-service and template) delivered to ``openid``."""
        return [
            d
            for d in (*self.deliveries, *self.template_deliveries)
            if d.openid == openid
        ]

    def _campaign_refusal(self, openid: str) -> dict[str, Any] | None:
        if self.daily_quota is not None:
            if self.quota_used >= self.daily_quota:
                return {"errcode": QUOTA_REACHED, "errmsg": "api freq out of limit"}
            self.quota_used += 1
        scripted = self._refusals.get(openid)
        if scripted is None:
            return None
        errcode, times = scripted
        if times is not None:
            if times <= 1:
                del self._refusals[openid]
            else:
                self._refusals[openid] = (errcode, times - 1)
        return {"errcode": errcode, "errmsg": f"scripted {errcode}"}

    async def _template_send(self, request: web.Request) -> web.Response:
        self.send_calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if request.query.get("access_token") not in self._valid:
            return _json({"errcode": INVALID_TOKEN, "errmsg": "invalid credential"})
        body = json.loads((await request.read()).decode("utf-8"))
        openid = str(body.get("touser", ""))
        refusal = self._campaign_refusal(openid)
        if refusal is not None:
            return _json(refusal)
        if not body.get("template_id"):
            return _json({"errcode": INVALID_TEMPLATE_ID, "errmsg": "invalid template"})
        self.template_deliveries.append(Delivery(openid=openid, body=body))
        return _json(
            {"errcode": 0, "errmsg": "ok", "msgid": len(self.template_deliveries)}
        )


def _json(payload: dict[str, Any]) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False), content_type="application/json"
    )


# --- user tags (aurora-marketing segments --sync-tags) ----------------------------
# tags/get, tags/create, user/tag/get, tags/members/batchtagging and
# batchuntagging, with WeChat's errcodes for the limits tag sync must respect.

TAG_NAME_EXISTS = 45157
TAG_NAME_TOO_LONG = 45158
TOO_MANY_OPENIDS = 40032
TAG_NOT_FOUND = 45159
MAX_TAG_NAME = 30
MAX_OPENIDS_PER_CALL = 50
# Openids per page of user/tag/get (WeChat: 10,000; small to exercise paging).
TAG_MEMBERS_PAGE = 10_000


class FakeTags:
    """The user tags of the stand-in: names by id and the openids carrying each.

    Args:
        token_valid: Whether an access token is one the stand-in issued.
    """

    def __init__(self, token_valid: Callable[[str | None], bool]) -> None:
        self._token_valid = token_valid
        self.names: dict[int, str] = {}
        self.members: dict[int, set[str]] = {}
        self.calls: list[str] = []
        self.page_size = TAG_MEMBERS_PAGE
        self._errors: dict[str, list[int]] = {}
        self._next_id = 100

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Serves the tag endpoints on ``router``."""
        router.add_route("*", "/cgi-bin/tags/get", self._get)
        router.add_post("/cgi-bin/tags/create", self._create)
        router.add_post("/cgi-bin/user/tag/get", self._members)
        router.add_post("/cgi-bin/tags/members/batchtagging", self._tag)
        router.add_post("/cgi-bin/tags/members/batchuntagging", self._untag)

    def tag_named(self, name: str) -> set[str]:
        """The openids carrying the tag called ``name`` (empty when none)."""
        ids = [i for i, n in self.names.items() if n == name]
        return set(self.members.get(ids[0], set())) if ids else set()

    def fail_next(self, call: str, errcode: int, times: int = 1) -> None:
        """Answers the next ``times`` calls of ``call`` (e.g. batchtagging)."""
        self._errors.setdefault(call, []).extend([errcode] * times)

    async def _checked(
        self, request: web.Request, call: str
    ) -> dict[str, Any] | web.Response:
        self.calls.append(call)
        if not self._token_valid(request.query.get("access_token")):
            return _json({"errcode": INVALID_TOKEN, "errmsg": "invalid credential"})
        if self._errors.get(call):
            errcode = self._errors[call].pop(0)
            return _json({"errcode": errcode, "errmsg": f"injected {errcode}"})
        raw = await request.read()
        body = json.loads(raw.decode("utf-8")) if raw else {}
        return body if isinstance(body, dict) else {}

    async def _get(self, request: web.Request) -> web.Response:
        body = await self._checked(request, "get")
        if isinstance(body, web.Response):
            return body
        tags = [
            {"id": i, "name": n, "count": len(self.members[i])}
            for i, n in self.names.items()
        ]
        return _json({"tags": tags})

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._checked(request, "create")
        if isinstance(body, web.Response):
            return body
        name = str(body.get("tag", {}).get("name", ""))
        if len(name) > MAX_TAG_NAME:
            return _json({"errcode": TAG_NAME_TOO_LONG, "errmsg": "name too long"})
        if name in self.names.values():
            return _json({"errcode": TAG_NAME_EXISTS, "errmsg": "name exists"})
        self._next_id += 1
        self.names[self._next_id] = name
        self.members[self._next_id] = set()
        return _json({"tag": {"id": self._next_id, "name": name}})

    async def _members(self, request: web.Request) -> web.Response:
        body = await self._checked(request, "members")
        if isinstance(body, web.Response):
            return body
        tag_id = int(body.get("tagid", 0))
        if tag_id not in self.members:
            return _json({"errcode": TAG_NOT_FOUND, "errmsg": "tag not found"})
        ordered = sorted(self.members[tag_id])
        after = str(body.get("next_openid") or "")
        page = [o for o in ordered if o > after][: self.page_size]
        if not page:
            return _json({"count": 0, "next_openid": ""})
        answer = {"count": len(page), "data": {"openid": page}, "next_openid": page[-1]}
        return _json(answer)

    async def _tag(self, request: web.Request) -> web.Response:
        return await self._batch(request, "batchtagging", set.update)

    async def _untag(self, request: web.Request) -> web.Response:
        return await self._batch(request, "batchuntagging", set.difference_update)

    async def _batch(
        self,
        request: web.Request,
        call: str,
        change: Callable[[set[str], list[str]], None],
    ) -> web.Response:
        body = await self._checked(request, call)
        if isinstance(body, web.Response):
            return body
        openids = [str(o) for o in body.get("openid_list") or []]
        tag_id = int(body.get("tagid", 0))
        if tag_id not in self.members:
            return _json({"errcode": TAG_NOT_FOUND, "errmsg": "tag not found"})
        if not openids or len(openids) > MAX_OPENIDS_PER_CALL:
            return _json({"errcode": TOO_MANY_OPENIDS, "errmsg": "invalid size"})
        change(self.members[tag_id], openids)
        return _json({"errcode": 0, "errmsg": "ok"})


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
