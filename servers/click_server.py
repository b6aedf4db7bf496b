"""The click server: tracked links and the shop's order callback (aiohttp).

``GET /t/{tracking_id}`` logs a click on the impression and redirects to the
product page; ``POST /orders`` with ``{"tracking_id": ...}`` and the bearer
token logs a purchase. Run next to the action server and point
``AURORA_TRACKING_BASE_URL`` at it:

    python -m servers.click_server --port 5056

Not a rasa-sdk action: importing this module starts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging

from aiohttp import web

from marketing.connection import LazyStore, StoreFactory
from marketing.settings import load_settings
from marketing.store import CLICK, PURCHASE, Interaction

logger = logging.getLogger(__name__)

# Tracking ids are 16 hex characters; anything else is rejected before the DB.
MAX_TRACKING_ID = 32
MAX_BODY_BYTES = 4096
STORE_KEY: web.AppKey[StoreFactory] = web.AppKey("store")
TOKEN_KEY: web.AppKey[str | None] = web.AppKey("token")


def _valid(tracking_id: str) -> bool:
    return 0 < len(tracking_id) <= MAX_TRACKING_ID and tracking_id.isalnum()


async def _record(
    request: web.Request, tracking_id: str, event: str
) -> Interaction | None:
    store = request.app[STORE_KEY]
    return await asyncio.to_thread(lambda: store().record_event(tracking_id, event))


async def follow_link(request: web.Request) -> web.StreamResponse:
    """Logs the click and redirects to where the impression pointed."""
    tracking_id = request.match_info["tracking_id"]
    if not _valid(tracking_id):
        raise web.HTTPNotFound()
    try:
        impression = await _record(request, tracking_id, CLICK)
    except Exception:  # the HTTP boundary: a 503 with the traceback logged
        logger.exception("Click on %s not logged.", tracking_id)
        raise web.HTTPServiceUnavailable() from None
    if impression is None or not impression.target_url:
        raise web.HTTPNotFound()
    raise web.HTTPFound(impression.target_url)


async def order_callback(request: web.Request) -> web.Response:
    """Logs a purchase reported by the shop for a tracked impression."""
    token = request.app[TOKEN_KEY]
    sent = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        raise web.HTTPForbidden()
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_BODY_BYTES, request.content_length or 0)
    try:
        body = await request.json()
        tracking_id = str(body["tracking_id"])
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text='expected {"tracking_id": ...}') from None
    if not _valid(tracking_id):
        raise web.HTTPBadRequest(text="invalid tracking_id")
    if await _record(request, tracking_id, PURCHASE) is None:
        raise web.HTTPNotFound()
    return web.json_response({"status": "ok"})


def make_app(store: StoreFactory, token: str | None = None) -> web.Application:
    """The click server's application.

    Args:
        store: Makes the marketing store.
        token: The bearer token ``/orders`` requires; without one it refuses every
            order.
    """
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STORE_KEY] = store
    app[TOKEN_KEY] = token
    app.router.add_get("/t/{tracking_id}", follow_link)
    app.router.add_post("/orders", order_callback)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serves the click server."""
    parser = argparse.ArgumentParser(description="Tracked links and order callback")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=5056)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    settings = load_settings()
    app = make_app(LazyStore(settings.database_url), token=settings.tracking_token)
    web.run_app(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
