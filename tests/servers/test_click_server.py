"""Tracked links and the order callback over a real local HTTP server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from marketing.orders import Order, orders_between
from marketing.signing import SIGNATURE_HEADER, sign_body
from marketing.store import CLICK, IMPRESSION, PURCHASE, Interaction, MarketingStore
from marketing.tracking import new_tracking_id
from privacy import masking
from servers import click_server
from servers.click_server import (
    DEFAULT_HOST,
    MAX_ORDER_AGE_S,
    MAX_TRACKING_ID,
    make_app,
)
from tests.marketing.fixtures import broken_store

TOKEN = "shop-secret"
NOW = 1_800_000_000.0


@pytest.fixture
async def client(marketing_db: MarketingStore) -> AsyncIterator[TestClient]:
    marketing_db.log(
        [
            Interaction(
                "u1", "ph-x5", IMPRESSION, "hybrid", None, "abc123",
                datetime(2026, 11, 22), "https://shop.example/p/ph-x5",
            )
        ]
    )  # fmt: skip
    app = make_app(lambda: marketing_db, TOKEN, clock=lambda: NOW)
    async with TestClient(TestServer(app)) as c:
        yield c


def signed(body: dict[str, object], token: str = TOKEN) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode("utf-8")
    return raw, {SIGNATURE_HEADER: sign_body(token, raw)}


async def test_tracked_link_logs_a_click_and_redirects(
    client: TestClient, marketing_db: MarketingStore
) -> None:
    response = await client.get("/t/abc123", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "https://shop.example/p/ph-x5"
    assert [i.event for i in marketing_db.history("u1")] == [IMPRESSION, CLICK]


@pytest.mark.parametrize("path", ["/t/unknown", "/t/no-such-thing!", "/t/" + "a" * 40])
async def test_unknown_or_malformed_ids_are_not_found(
    client: TestClient, path: str
) -> None:
    assert (await client.get(path, allow_redirects=False)).status == 404


async def test_order_callback_needs_the_token(
    client: TestClient, marketing_db: MarketingStore
) -> None:
    body = {"tracking_id": "abc123"}
    assert (await client.post("/orders", json=body)).status == 403
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.post("/orders", json=body, headers=wrong)).status == 403
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert (await client.post("/orders", json=body, headers=right)).status == 200
    assert marketing_db.history("u1")[-1].event == PURCHASE
    bad = await client.post("/orders", data="{", headers=right)
    assert bad.status == 400
    missing = await client.post("/orders", json={"tracking_id": "zzz"}, headers=right)
    assert missing.status == 404


async def test_database_down_is_a_503_not_a_crash() -> None:
    async with TestClient(TestServer(make_app(broken_store, TOKEN))) as c:
        assert (await c.get("/t/abc123", allow_redirects=False)).status == 503


async def test_a_signed_fresh_body_logs_the_purchase(
    client: TestClient, marketing_db: MarketingStore
) -> None:
    raw, headers = signed({"tracking_id": "abc123", "timestamp": NOW - 10})
    assert (await client.post("/orders", data=raw, headers=headers)).status == 200
    assert marketing_db.history("u1")[-1].event == PURCHASE


@pytest.mark.parametrize(
    "forge",
    [
        "wrong key",
        "body changed after signing",
        "no timestamp",
        "stale",
        "from the future",
        "bad timestamp",
        "bare hex",
    ],
)
async def test_forged_unsigned_or_replayed_orders_are_refused(
    client: TestClient, marketing_db: MarketingStore, forge: str
) -> None:
    body: dict[str, object] = {"tracking_id": "abc123", "timestamp": NOW}
    raw, headers = signed(body)
    if forge == "wrong key":
        raw, headers = signed(body, token="guess")
    elif forge == "body changed after signing":
        raw = raw.replace(b"abc123", b"abc124")
    elif forge == "no timestamp":
        raw, headers = signed({"tracking_id": "abc123"})
    elif forge == "stale":
        raw, headers = signed({**body, "timestamp": NOW - MAX_ORDER_AGE_S - 1})
    elif forge == "from the future":
        raw, headers = signed({**body, "timestamp": NOW + MAX_ORDER_AGE_S + 1})
    elif forge == "bad timestamp":
        raw, headers = signed({**body, "timestamp": "yesterday"})
    elif forge == "bare hex":
        headers = {SIGNATURE_HEADER: headers[SIGNATURE_HEADER].removeprefix("sha256=")}
    assert (await client.post("/orders", data=raw, headers=headers)).status == 403
    assert [i.event for i in marketing_db.history("u1")] == [IMPRESSION]


async def test_a_bearer_order_with_a_stale_timestamp_is_refused(
    client: TestClient,
) -> None:
    right = {"Authorization": f"Bearer {TOKEN}"}
    stale = {"tracking_id": "abc123", "timestamp": NOW - MAX_ORDER_AGE_S - 1}
    assert (await client.post("/orders", json=stale, headers=right)).status == 403


async def test_without_a_configured_token_every_order_is_refused(
    marketing_db: MarketingStore,
) -> None:
    async with TestClient(TestServer(make_app(lambda: marketing_db))) as c:
        raw = b'{"tracking_id": "abc123"}'
        headers = {SIGNATURE_HEADER: sign_body("", raw), "Authorization": "Bearer "}
        assert (await c.post("/orders", data=raw, headers=headers)).status == 403


def test_tracking_ids_are_128_random_bits_that_fit_the_column() -> None:
    ids = {new_tracking_id() for _ in range(1000)}
    assert len(ids) == 1000
    for tracking_id in ids:
        assert len(tracking_id) == 32 == MAX_TRACKING_ID
        int(tracking_id, 16)


def test_main_serves_on_loopback_with_log_masking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: dict[str, object] = {}
    monkeypatch.setattr(web, "run_app", lambda app, **kwargs: served.update(kwargs))
    click_server.main([])
    assert served == {"host": DEFAULT_HOST, "port": 5056}
    assert DEFAULT_HOST == "127.0.0.1"
    assert masking.installed()


async def test_a_signed_order_sent_twice_is_recorded_once(
    client: TestClient, marketing_db: MarketingStore
) -> None:
    raw, headers = signed({"tracking_id": "abc123", "timestamp": NOW - 5})
    first = await client.post("/orders", data=raw, headers=headers)
    again = await client.post("/orders", data=raw, headers=headers)
    assert (first.status, again.status) == (200, 200)
    assert await again.json() == {"status": "duplicate"}
    other, other_headers = signed({"tracking_id": "abc123", "timestamp": NOW - 4})
    assert (
        await client.post("/orders", data=other, headers=other_headers)
    ).status == 200
    events = [i.event for i in marketing_db.history("u1")]
    assert events == [IMPRESSION, PURCHASE, PURCHASE]


# --- orders with an id, an amount and a currency ------------------------------

BEARER = {"Authorization": f"Bearer {TOKEN}"}


def _orders(store: MarketingStore) -> list[Order]:
    return orders_between(store, None, datetime(2100, 1, 1))


async def test_an_order_is_recorded_with_amount_and_currency(
    client: TestClient, marketing_db: MarketingStore
) -> None:
    body = {"tracking_id": "abc123", "order_id": "SO-1", "amount": "4999.00"}
    response = await client.post("/orders", json=body, headers=BEARER)
    assert (response.status, await response.json()) == (200, {"status": "ok"})
    (order,) = _orders(marketing_db)
    assert (order.order_id, order.user_id, order.amount, order.currency) == (
        "SO-1", "u1", Decimal("4999.00"), "CNY",
    )  # fmt: skip
    assert order.item_id == "ph-x5"  # the impression's item
    assert [i.event for i in marketing_db.history("u1")] == [IMPRESSION, PURCHASE]


async def test_a_json_number_amount_and_another_currency(
    client: TestClient, marketing_db: MarketingStore
) -> None:
    raw, headers = signed(
        {"tracking_id": "abc123", "order_id": 42, "amount": 19.9, "currency": "usd",
         "item_id": "au-buds-pro2", "timestamp": NOW}
    )  # fmt: skip
    assert (await client.post("/orders", data=raw, headers=headers)).status == 200
    (order,) = _orders(marketing_db)
    assert (order.order_id, order.amount, order.currency, order.item_id) == (
        "42", Decimal("19.90"), "USD", "au-buds-pro2",
    )  # fmt: skip


async def test_the_default_currency_is_the_configured_one(
    marketing_db: MarketingStore,
) -> None:
    marketing_db.log(
        [
            Interaction(
                "u2", "p", IMPRESSION, "hybrid", None, "trk2", datetime(2026, 1, 1)
            )
        ]
    )
    app = make_app(lambda: marketing_db, TOKEN, clock=lambda: NOW, currency="HKD")
    async with TestClient(TestServer(app)) as c:
        body = {"tracking_id": "trk2", "order_id": "SO-1", "amount": "8"}
        assert (await c.post("/orders", json=body, headers=BEARER)).status == 200
    assert _orders(marketing_db)[0].currency == "HKD"


async def test_a_repeated_order_id_is_a_duplicate_even_with_a_new_signature(
    client: TestClient, marketing_db: MarketingStore
) -> None:
    body: dict[str, object] = {"tracking_id": "abc123", "order_id": "SO-1",
                               "amount": "10", "timestamp": NOW - 5}  # fmt: skip
    raw, headers = signed(body)
    first = await client.post("/orders", data=raw, headers=headers)
    retry, retry_headers = signed({**body, "timestamp": NOW - 1})
    again = await client.post("/orders", data=retry, headers=retry_headers)
    by_bearer = await client.post("/orders", json=body, headers=BEARER)
    assert await first.json() == {"status": "ok"}
    assert await again.json() == {"status": "duplicate"}
    assert await by_bearer.json() == {"status": "duplicate"}
    assert len(_orders(marketing_db)) == 1
    assert [i.event for i in marketing_db.history("u1")] == [IMPRESSION, PURCHASE]


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"amount": "10"}, "order_id is required"),
        ({"order_id": "SO-1"}, "amount is required"),
        ({"order_id": "SO-1", "amount": "0"}, "amount must be positive"),
        ({"order_id": "SO-1", "amount": -3}, "amount must be positive"),
        ({"order_id": "SO-1", "amount": "9.999"}, "2 decimals"),
        ({"order_id": "SO-1", "amount": "1e9"}, "at most"),
        ({"order_id": "SO-1", "amount": "ten"}, "not a number"),
        ({"order_id": "SO-1", "amount": True}, "decimal number"),
        ({"order_id": "SO-1", "amount": "5", "currency": "RMB1"}, "ISO 4217"),
        ({"order_id": "x" * 65, "amount": "5"}, "order_id must be"),
        ({"currency": "CNY"}, "order_id is required"),
    ],
)
async def test_unusable_orders_are_a_clear_400(
    client: TestClient, marketing_db: MarketingStore, extra: dict[str, object],
    why: str,
) -> None:  # fmt: skip
    body = {"tracking_id": "abc123", **extra}
    response = await client.post("/orders", json=body, headers=BEARER)
    assert response.status == 400
    assert why in await response.text()
    assert _orders(marketing_db) == []
    assert [i.event for i in marketing_db.history("u1")] == [IMPRESSION]


async def test_an_order_for_an_unknown_impression_is_not_found(
    client: TestClient, marketing_db: MarketingStore
) -> None:
    body = {"tracking_id": "zzz", "order_id": "SO-1", "amount": "5"}
    assert (await client.post("/orders", json=body, headers=BEARER)).status == 404
    assert _orders(marketing_db) == []


async def test_orders_while_the_database_is_down_are_a_503_to_retry() -> None:
    async with TestClient(TestServer(make_app(broken_store, TOKEN))) as c:
        body = {"tracking_id": "abc123", "order_id": "SO-1", "amount": "5"}
        assert (await c.post("/orders", json=body, headers=BEARER)).status == 503
        legacy = {"tracking_id": "abc123"}
        assert (await c.post("/orders", json=legacy, headers=BEARER)).status == 503
