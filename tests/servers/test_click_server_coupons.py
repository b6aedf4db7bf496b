"""Coupons redeemed through the order callback (POST /orders, ``coupon_code``).

Beside ``test_click_server.py`` so the order's own fields and its coupon are
tested apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer

from marketing.coupons import RECOVERY, Coupons
from marketing.store import IMPRESSION, PURCHASE, Interaction, MarketingStore
from servers.click_server import make_app

TOKEN = "shop-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> MarketingStore:
    name = "marketing_db" if request.param == "sqlite" else "postgres_db"
    result: MarketingStore = request.getfixturevalue(name)
    return result


@pytest.fixture
async def client(store: MarketingStore) -> AsyncIterator[TestClient]:
    shown = datetime(2026, 11, 22)
    store.log(
        [
            Interaction("u1", "ph-x5", IMPRESSION, "hybrid", None, "trk1", shown),
            Interaction("u2", "ph-x5", IMPRESSION, "hybrid", None, "trk2", shown),
        ]
    )
    async with TestClient(TestServer(make_app(lambda: store, TOKEN))) as c:
        yield c


async def order(client: TestClient, **body: object) -> dict[str, object]:
    response = await client.post("/orders", json=body, headers=AUTH)
    assert response.status == 200
    result: dict[str, object] = await response.json()
    return result


async def test_a_valid_coupon_is_accepted_once(
    client: TestClient, store: MarketingStore
) -> None:
    coupon = Coupons(store).issue("u1", RECOVERY, "50元补偿券", valid_days=30)
    first = await order(
        client,
        tracking_id="trk1",
        order_id="AU1",
        amount="149.00",
        coupon_code=coupon.code,
    )
    assert first == {"status": "ok", "coupon": "ok", "coupon_accepted": True}
    redeemed = Coupons(store).get(coupon.code)
    assert redeemed is not None and redeemed.order_id == "AU1"
    again = await order(
        client, tracking_id="trk1", order_id="AU9", amount=99, coupon_code=coupon.code
    )
    assert again["coupon"] == "already_redeemed" and again["coupon_accepted"] is False
    # The shop retrying the first order: a duplicate, no second redemption (not
    # even of another code).
    other = Coupons(store).issue("u1", "campaign", "10元券", valid_days=30)
    retry = await order(
        client, tracking_id="trk1", order_id="AU1", amount=149, coupon_code=other.code
    )
    assert retry == {
        "status": "duplicate",
        "coupon": "duplicate_order",
        "coupon_accepted": False,
    }
    unused = Coupons(store).get(other.code)
    assert unused is not None and unused.redeemed_at is None
    assert store.history("u1")[-1].event == PURCHASE  # the order stands either way


async def test_someone_elses_or_an_unknown_coupon_is_refused(
    client: TestClient, store: MarketingStore
) -> None:
    coupon = Coupons(store).issue("u1", RECOVERY, "50元补偿券", valid_days=30)
    theirs = await order(
        client, tracking_id="trk2", order_id="B1", amount=9, coupon_code=coupon.code
    )
    assert theirs["coupon"] == "not_yours"
    unknown = await order(
        client, tracking_id="trk2", order_id="B2", amount=9, coupon_code="ABCDEFGH23"
    )
    assert unknown == {"status": "ok", "coupon": "unknown", "coupon_accepted": False}
    odd = await order(
        client, tracking_id="trk2", order_id="B3", amount=9, coupon_code=12345
    )
    assert odd["coupon"] == "unknown"


async def test_the_older_body_names_no_order_so_redeems_no_coupon(
    client: TestClient, store: MarketingStore
) -> None:
    coupon = Coupons(store).issue("u1", RECOVERY, "50元补偿券", valid_days=30)
    for _ in range(2):  # every purchase through the link would reuse one "order"
        answer = await order(client, tracking_id="trk1", coupon_code=coupon.code)
        assert answer == {
            "status": "ok",
            "coupon": "order_id_required",
            "coupon_accepted": False,
        }
    unused = Coupons(store).get(coupon.code)
    assert unused is not None and unused.redeemed_at is None


async def test_an_order_without_a_coupon_says_nothing_about_one(
    client: TestClient,
) -> None:
    assert await order(client, tracking_id="trk1") == {"status": "ok"}
