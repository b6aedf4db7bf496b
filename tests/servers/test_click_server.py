"""Tracked links and the order callback over a real local HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer

from marketing.store import CLICK, IMPRESSION, PURCHASE, Interaction, MarketingStore
from servers.click_server import make_app
from tests.marketing.fixtures import broken_store

TOKEN = "shop-secret"


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
    async with TestClient(TestServer(make_app(lambda: marketing_db, TOKEN))) as c:
        yield c


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
