"""The click server: tracked links and the shop's order callback (aiohttp).

``GET /t/{tracking_id}`` logs a click on the impression and redirects to the
product page. ``POST /orders`` records an order of the customer the tracked
impression was shown to, and logs the purchase:

.. code-block:: json

    {"order_id": "SO-20261212-0042", "tracking_id": "9f0c...", "amount": "4999.00",
     "currency": "CNY", "item_id": "ph-x5-pro", "timestamp": 1797000000}

``order_id`` (the shop's, at most 64 characters) is recorded once: a repeat gets
``{"status": "duplicate"}`` (:mod:`marketing.orders`). ``amount`` is a decimal
string or number, positive, in cents at most; ``currency`` defaults to
``AURORA_CURRENCY``; ``item_id`` to the impression's item. The older body,
``{"tracking_id": ...}`` alone, still logs the purchase, without an amount.
The shop proves who it is with ``AURORA_TRACKING_TOKEN`` in one of two ways:

- ``Authorization: Bearer <token>``;
- ``X-Aurora-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body keyed
  with the token (see :func:`sign_body`): the token never travels, and the body
  must carry ``timestamp`` (Unix seconds) within :data:`MAX_ORDER_AGE_S` of now,
  so a captured request cannot be replayed later; within that window the same
  signed body of the older kind is recorded once (a repeat, the shop's retry or a
  replay, gets ``{"status": "duplicate"}``). That memory is this process's; an
  ``order_id`` is remembered by the store, across processes and restarts.

An order may carry the ``coupon_code`` the customer typed (a single-use coupon
of :mod:`marketing.coupons`, e.g. the service-recovery one): it is redeemed for
the order's buyer, and the answer says ``"coupon": "ok"`` with
``"coupon_accepted": true``, or why not (``unknown``, ``expired``,
``already_redeemed``, ``not_yours``, ``unavailable``; ``order_id_required`` for
the older body, which names no order; ``duplicate_order`` for a repeat of an
order already recorded, whose first delivery settled its coupon).

Run next to the action server, on loopback behind the reverse proxy that serves
``AURORA_TRACKING_BASE_URL``:

    python -m servers.click_server --port 5056

Not a rasa-sdk action: importing this module starts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from marketing.connection import LazyStore, StoreFactory
from marketing.coupons import Coupons, Redemption
from marketing.orders import (
    OrderError,
    OrderRequest,
    Outcome,
    buyer_of,
    parse_order,
    record_order,
)
from marketing.settings import Settings, load_settings
from marketing.signing import SIGNATURE_HEADER, sign_body
from marketing.store import CLICK, PURCHASE, Interaction
from privacy import masking

logger = logging.getLogger(__name__)

# Tracking ids are 32 hex characters (marketing.tracking); anything longer or not
# alphanumeric is rejected before the DB.
MAX_TRACKING_ID = 32
MAX_BODY_BYTES = 4096
# A signed order older or newer than this is refused as a replay.
MAX_ORDER_AGE_S = 300.0
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5056
STORE_KEY: web.AppKey[StoreFactory] = web.AppKey("store")
TOKEN_KEY: web.AppKey[str | None] = web.AppKey("token")
CLOCK_KEY: web.AppKey[Callable[[], float]] = web.AppKey("clock")
CURRENCY_KEY: web.AppKey[str] = web.AppKey("currency")


class SeenSignatures:
    """Signatures of recorded orders, kept while their timestamp is fresh.

    Args:
        clock: Unix time now.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def first_time(self, signature: str) -> bool:
        """Remembers ``signature``; False when it was seen in the window."""
        now = self._clock()
        self._expiry = {s: t for s, t in self._expiry.items() if t > now}
        if signature in self._expiry:
            return False
        self._expiry[signature] = now + 2 * MAX_ORDER_AGE_S
        return True


SEEN_KEY: web.AppKey[SeenSignatures] = web.AppKey("seen")


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


def _authentication(request: web.Request, body: bytes) -> str | None:
    """``"bearer"`` or ``"signature"`` when the request proves it; else None."""
    token = request.app[TOKEN_KEY]
    if not token:
        return None
    bearer = request.headers.get("Authorization", "")
    if bearer and hmac.compare_digest(bearer.encode(), f"Bearer {token}".encode()):
        return "bearer"
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if signature and hmac.compare_digest(
        signature.strip().lower().encode(), sign_body(token, body).encode()
    ):
        return "signature"
    return None


def _fresh(payload: dict[str, Any], now: float, required: bool) -> bool:
    """Whether the body's ``timestamp`` is within :data:`MAX_ORDER_AGE_S` of now."""
    if "timestamp" not in payload:
        return not required
    try:
        stamp = float(payload["timestamp"])
    except (TypeError, ValueError):
        return False
    return abs(now - stamp) <= MAX_ORDER_AGE_S


async def _record_order(
    request: web.Request, tracking_id: str, order: OrderRequest
) -> Outcome:
    store = request.app[STORE_KEY]
    return await asyncio.to_thread(
        lambda: record_order(
            store(),
            order.order_id,
            tracking_id,
            order.amount,
            order.currency,
            order.item_id,
        )
    )


async def order_callback(request: web.Request) -> web.Response:
    """Records an order (or, older body, a purchase) of a tracked impression."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_BODY_BYTES, request.content_length or 0)
    raw = await request.read()
    method = _authentication(request, raw)
    if method is None:
        raise web.HTTPForbidden()
    try:
        # Decimal, not float: 0.1 + 0.2 must stay cents.
        payload = json.loads(raw, parse_float=Decimal)
        tracking_id = str(payload["tracking_id"])
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text='expected {"tracking_id": ...}') from None
    if not _fresh(payload, request.app[CLOCK_KEY](), method == "signature"):
        raise web.HTTPForbidden(text="timestamp missing or too old")
    if not _valid(tracking_id):
        raise web.HTTPBadRequest(text="invalid tracking_id")
    try:
        order = parse_order(payload, request.app[CURRENCY_KEY])
    except OrderError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    if order is None:
        return await _purchase(request, payload, tracking_id, method)
    try:
        outcome = await _record_order(request, tracking_id, order)
    except Exception:  # the HTTP boundary: a 503 the shop retries
        logger.exception("Order on %s not recorded.", tracking_id)
        raise web.HTTPServiceUnavailable() from None
    if outcome is Outcome.UNKNOWN_TRACKING_ID:
        raise web.HTTPNotFound()
    coupon: dict[str, object] = {}
    if "coupon_code" in payload and outcome is Outcome.DUPLICATE:
        # The shop's retry: the first delivery redeemed (or refused) its coupon;
        # a second code must not ride on an order already recorded.
        coupon = {"coupon": "duplicate_order", "coupon_accepted": False}
    elif "coupon_code" in payload:
        store = request.app[STORE_KEY]
        buyer = await asyncio.to_thread(lambda: buyer_of(store(), tracking_id))
        if buyer is not None:
            coupon = await _redeem_coupon(request, payload, buyer)
    return web.json_response({"status": outcome.value, **coupon})


async def _purchase(
    request: web.Request, payload: dict[str, Any], tracking_id: str, method: str
) -> web.Response:
    """The older callback: a purchase without an order id or amount."""
    signature = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
    if method == "signature" and not request.app[SEEN_KEY].first_time(signature):
        return web.json_response({"status": "duplicate"})
    try:
        impression = await _record(request, tracking_id, PURCHASE)
    except Exception:  # the HTTP boundary: a 503 the shop retries
        logger.exception("Purchase on %s not logged.", tracking_id)
        raise web.HTTPServiceUnavailable() from None
    if impression is None:
        raise web.HTTPNotFound()
    coupon: dict[str, object] = {}
    if "coupon_code" in payload:
        # Single use needs an order to tie the coupon to: the older body has none.
        coupon = {"coupon": "order_id_required", "coupon_accepted": False}
    return web.json_response({"status": "ok", **coupon})


async def _redeem_coupon(
    request: web.Request, payload: dict[str, Any], user_id: str
) -> dict[str, object]:
    """The coupon part of an order's answer; empty when the order names none."""
    code = payload.get("coupon_code")
    if code is None:
        return {}
    if not isinstance(code, str):
        return {"coupon": Redemption.UNKNOWN.value, "coupon_accepted": False}
    order_id = str(payload["order_id"])[:64]
    store = request.app[STORE_KEY]
    try:
        outcome = await asyncio.to_thread(
            lambda: Coupons(store()).redeem(code, order_id, user_id)
        )
    except Exception:  # the HTTP boundary: the order stands, the coupon does not
        logger.exception("Coupon of order %s not redeemed.", order_id)
        return {"coupon": "unavailable", "coupon_accepted": False}
    return {"coupon": outcome.value, "coupon_accepted": outcome.accepted}


def make_app(
    store: StoreFactory,
    token: str | None = None,
    clock: Callable[[], float] = time.time,
    currency: str = Settings.currency,
) -> web.Application:
    """The click server's application.

    Args:
        store: Makes the marketing store.
        token: The secret ``/orders`` requires (as a bearer token or as the key of
            the body's signature); without one it refuses every order.
        clock: Unix time now, for the age of signed orders.
        currency: The currency of orders that name none (``AURORA_CURRENCY``).
    """
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STORE_KEY] = store
    app[TOKEN_KEY] = token
    app[CLOCK_KEY] = clock
    app[CURRENCY_KEY] = currency
    app[SEEN_KEY] = SeenSignatures(clock)
    app.router.add_get("/t/{tracking_id}", follow_link)
    app.router.add_post("/orders", order_callback)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serves the click server."""
    parser = argparse.ArgumentParser(description="Tracked links and order callback")
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="interface (default: loopback only)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    masking.install()
    logging.basicConfig(level=logging.INFO)
    settings = load_settings()
    app = make_app(
        LazyStore(settings.database_url),
        token=settings.tracking_token,
        currency=settings.currency,
    )
    web.run_app(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
