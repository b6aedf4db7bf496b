"""What every route of the admin server shares: who asks, work off the loop.

The application's keys, the checks of the caller (a browser's session cookie,
a script's bearer token, a form's CSRF token), a call into the marketing store
in a worker thread bounded by the read timeout, and HTML answers. The dashboard
(:mod:`servers.admin_server`) and the copy review (:mod:`servers.copy_review`)
both build on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from servers.admin_auth import AdminAuth
from servers.dashboard_page import DashboardPages

logger = logging.getLogger(__name__)

SESSION_COOKIE = "aurora_admin_session"
# The form field that carries the CSRF token.
CSRF_FIELD = "csrf"

AUTH_KEY: web.AppKey[AdminAuth] = web.AppKey("auth")
PAGES_KEY: web.AppKey[DashboardPages] = web.AppKey("pages")
TIMEOUT_KEY: web.AppKey[float] = web.AppKey("read_timeout_s")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")


class SourceUnavailable(Exception):
    """The marketing store failed (it is down or hung); logged where raised."""


def session_of(request: web.Request) -> str | None:
    """The request's session when it is valid, else None."""
    session = request.cookies.get(SESSION_COOKIE)
    if session and request.app[AUTH_KEY].session_valid(session):
        return session
    return None


def session_ok(request: web.Request) -> bool:
    """Whether the request carries a valid session."""
    return session_of(request) is not None


def page_allowed(request: web.Request) -> bool:
    """Whether a page may be shown: a valid session, or the bearer token."""
    return session_ok(request) or request.app[AUTH_KEY].bearer_matches(
        request.headers.get("Authorization", "")
    )


def check_bearer(request: web.Request) -> None:
    """Lets through only a request with the bearer token (401 without, 403 wrong)."""
    authorization = request.headers.get("Authorization", "")
    if not authorization:
        raise web.HTTPUnauthorized(
            text='{"error": "send Authorization: Bearer <admin token>"}',
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="aurora-admin"'},
        )
    if not request.app[AUTH_KEY].bearer_matches(authorization):
        raise web.HTTPForbidden(
            text='{"error": "wrong token"}', content_type="application/json"
        )


def check_api(request: web.Request) -> None:
    """Lets through a read of the JSON API: the bearer token or a valid session."""
    if request.headers.get("Authorization") or not session_ok(request):
        check_bearer(request)


def csrf_ok(request: web.Request, token: object) -> bool:
    """Whether a posted form's CSRF ``token`` belongs to the request's session."""
    session = request.cookies.get(SESSION_COOKIE, "")
    return isinstance(token, str) and request.app[AUTH_KEY].csrf_valid(session, token)


async def in_thread(
    request: web.Request,
    call: Callable[[], T],
    expected: tuple[type[Exception], ...] = (),
) -> T:
    """``call()`` in a worker thread, waited for at most the read timeout.

    Raises:
        SourceUnavailable: It failed (logged here) or ran past the timeout (it
            goes on in its thread); ``expected`` errors pass through unchanged.
    """
    try:
        return await asyncio.wait_for(asyncio.to_thread(call), request.app[TIMEOUT_KEY])
    except expected:
        raise
    except Exception as e:  # the HTTP boundary: logged, a 503 to the client
        logger.exception("Marketing store not read (%s).", type(e).__name__)
        raise SourceUnavailable() from e


def html(text: str, status: int = 200) -> web.Response:
    """An HTML answer."""
    return web.Response(text=text, status=status, content_type="text/html")
