"""The admin server: the marketing dashboard and its JSON API (aiohttp).

Every route is behind ``AURORA_ADMIN_TOKEN`` and the server refuses to start
without one (:class:`~servers.admin_auth.AdminTokenMissing`):

- ``GET /api/campaigns``, ``/api/segments``, ``/api/funnel``,
  ``/api/sentiment?days=N``, ``/api/activity?days=N`` (messages, intents,
  sentiment and actions per day): JSON for scripts, with ``Authorization:
  Bearer <token>`` (401 without, 403 for a wrong one); a logged-in browser's
  session works too;
- ``GET /``: the dashboard page; a browser without a session is sent to
  ``GET /login``, whose form (``POST /login``) sets an HttpOnly, SameSite=Strict
  cookie holding a signed session, never the token; ``POST /logout`` drops it;
- ``GET /copy`` and ``/api/copy-drafts``: the copy review (文案审核), when the
  server is given one (:mod:`servers.copy_review`): approve, edit or reject
  drafted copy; its forms carry a CSRF token.

Numbers come from one :class:`~marketing.dashboard.DashboardSource`, drafts
from a :class:`~marketing.copy_review.CopyReview`, both called in a worker
thread; while the store is down the answer is a 503 (JSON or a page),
never a traceback. Run on loopback, behind a TLS proxy (``--secure-cookie``)
when reached from elsewhere:

    python -m servers.admin_server --port 5057
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from catalog.errors import CatalogError
from marketing.connection import LazyStore
from marketing.copy_review import CopyReview, store_copy_review
from marketing.dashboard import DashboardSource, store_dashboard
from marketing.sentiment_watch import SpikeRule, recent
from marketing.settings import SettingsError, load_settings
from marketing.store import utc_now
from privacy import masking
from servers.admin_auth import AdminAuth, AdminTokenMissing
from servers.admin_json import jsonable
from servers.admin_request import (
    AUTH_KEY,
    PAGES_KEY,
    SESSION_COOKIE,
    TIMEOUT_KEY,
    Handler,
    SourceUnavailable,
    check_api,
    html,
    in_thread,
    page_allowed,
    session_ok,
)
from servers.copy_review import REVIEW_KEY, add_copy_review
from servers.dashboard_page import DashboardPages, DashboardView

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5057
DEFAULT_DAYS = 30
MAX_DAYS = 366
# Room for an edited draft of 1,000 Chinese characters, form-encoded.
MAX_BODY_BYTES = 16 * 1024
# A read still running after this is answered 503 (a hung database); the
# worker thread finishes on its own.
READ_TIMEOUT_S = 60.0
SECURITY_HEADERS = {
    # No script at all; styles inline; charts are data: images.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

SOURCE_KEY: web.AppKey[DashboardSource] = web.AppKey("source")
RULE_KEY: web.AppKey[SpikeRule] = web.AppKey("rule")
SECURE_KEY: web.AppKey[bool] = web.AppKey("secure_cookie")


@web.middleware
async def security_headers(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Adds :data:`SECURITY_HEADERS` to every answer, errors included."""
    try:
        response = await handler(request)
    except web.HTTPException as e:
        e.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    return response


async def _read(request: web.Request, read: Callable[[DashboardSource], Any]) -> Any:
    source = request.app[SOURCE_KEY]
    return await in_thread(request, lambda: read(source))


def _days(request: web.Request) -> int:
    try:
        days = int(request.query.get("days", DEFAULT_DAYS))
    except ValueError:
        raise web.HTTPBadRequest(text="days must be a whole number") from None
    if not 1 <= days <= MAX_DAYS:
        raise web.HTTPBadRequest(text=f"days must be within 1..{MAX_DAYS}")
    return days


async def _json(
    request: web.Request, read: Callable[[DashboardSource], Any]
) -> web.Response:
    try:
        data = await _read(request, read)
    except SourceUnavailable:
        return web.json_response({"error": "marketing store unavailable"}, status=503)
    return web.json_response(jsonable(data))


def _api(read: Callable[[DashboardSource], Any]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        check_api(request)
        return await _json(request, read)

    return handle


async def sentiment(request: web.Request) -> web.StreamResponse:
    """The negative share per day of ``?days=N`` (30), with its alerts."""
    check_api(request)
    days = _days(request)
    rule = request.app[RULE_KEY]

    def read(source: DashboardSource) -> dict[str, Any]:
        assessed = recent(source.negative_share_by_day, days, rule)
        return {
            "rule": rule,
            "days": assessed,
            "alerts": [d for d in assessed if d.alert],
        }

    return await _json(request, read)


async def activity(request: web.Request) -> web.StreamResponse:
    """The followers' activity per day of ``?days=N`` (30), oldest first."""
    check_api(request)
    days = _days(request)
    return await _json(request, lambda source: source.daily_activity(days))


async def dashboard(request: web.Request) -> web.StreamResponse:
    """The dashboard page, or the login form's address."""
    if not page_allowed(request):
        raise web.HTTPSeeOther("/login")
    rule = request.app[RULE_KEY]
    pages = request.app[PAGES_KEY]

    def view(source: DashboardSource) -> DashboardView:
        return DashboardView(
            reports=source.campaign_reports(),
            segments=source.segment_sizes(),
            funnel=source.lead_funnel(),
            sentiment=recent(source.negative_share_by_day, DEFAULT_DAYS, rule),
            rule=rule,
            generated_at=utc_now(),
            copy_review=REVIEW_KEY in request.app,
        )

    try:
        data = await _read(request, view)
    except SourceUnavailable:
        return html(pages.unavailable(), status=503)
    # Drawing the charts is CPU work: off the loop too.
    return html(await asyncio.to_thread(pages.dashboard, data))


async def login_form(request: web.Request) -> web.StreamResponse:
    """The login form (the dashboard itself when already logged in)."""
    if session_ok(request):
        raise web.HTTPSeeOther("/")
    return html(request.app[PAGES_KEY].login())


async def login(request: web.Request) -> web.StreamResponse:
    """Checks the posted token; a session cookie and the dashboard if it is right."""
    form = await request.post()
    token = form.get("token")
    auth = request.app[AUTH_KEY]
    if not isinstance(token, str) or not auth.token_matches(token):
        logger.warning("Admin login refused (wrong token) from %s.", request.remote)
        return html(request.app[PAGES_KEY].login("Wrong token."), status=403)
    response = web.HTTPSeeOther("/")
    response.set_cookie(
        SESSION_COOKIE,
        auth.new_session(),
        httponly=True,
        samesite="Strict",
        secure=request.app[SECURE_KEY],
        path="/",
    )
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    """Drops the session cookie."""
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def make_app(
    source: DashboardSource,
    token: str | None,
    rule: SpikeRule | None = None,
    pages: DashboardPages | None = None,
    secure_cookie: bool = False,
    clock: Callable[[], float] = time.time,
    read_timeout_s: float = READ_TIMEOUT_S,
    review: CopyReview | None = None,
) -> web.Application:
    """The admin server's application.

    Args:
        source: Where the numbers come from.
        token: The admin token.
        rule: When the negative share alerts (:class:`SpikeRule` defaults).
        pages: Renders the HTML.
        secure_cookie: Mark the session cookie ``Secure`` (served over HTTPS).
        clock: Unix time now, for the sessions' expiry.
        read_timeout_s: The longest wait for the source before a 503.
        review: The copy drafts to review (``/copy`` and ``/api/copy-drafts``);
            without it the server has no copy review.

    Raises:
        AdminTokenMissing: ``token`` is empty: the server must not start open.
    """
    app = web.Application(
        client_max_size=MAX_BODY_BYTES, middlewares=[security_headers]
    )
    app[AUTH_KEY] = AdminAuth(token, clock=clock)
    app[SOURCE_KEY] = source
    app[RULE_KEY] = rule or SpikeRule()
    app[PAGES_KEY] = pages or DashboardPages()
    app[SECURE_KEY] = secure_cookie
    app[TIMEOUT_KEY] = read_timeout_s
    app.router.add_get("/", dashboard)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/api/campaigns", _api(lambda s: s.campaign_reports()))
    app.router.add_get("/api/segments", _api(lambda s: s.segment_sizes()))
    app.router.add_get("/api/funnel", _api(lambda s: s.lead_funnel()))
    app.router.add_get("/api/sentiment", sentiment)
    app.router.add_get("/api/activity", activity)
    if review is not None:
        add_copy_review(app, review)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serves the admin server; exits with one clear line when it cannot."""
    parser = argparse.ArgumentParser(description="Marketing dashboard and admin API")
    parser.add_argument("--host", default=DEFAULT_HOST, help="default: loopback only")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--secure-cookie", action="store_true", help="behind HTTPS: Secure cookie"
    )
    args = parser.parse_args(argv)
    masking.install()
    logging.basicConfig(level=logging.INFO)
    try:
        settings = load_settings()
        store = LazyStore(settings.database_url)
        app = make_app(
            store_dashboard(settings, store),
            settings.admin_token,
            secure_cookie=args.secure_cookie,
            review=store_copy_review(store),
        )
    except (SettingsError, AdminTokenMissing, CatalogError) as e:
        sys.exit(f"admin server: {e}")
    web.run_app(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
