"""Orders owed to the last tracked click within the window before them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from marketing import attribution
from marketing.attribution import Click, attribute, attributed_orders
from marketing.orders import Order
from marketing.store import MarketingStore
from tests.marketing.fixtures import T0
from tests.marketing.seeding import Clock, click, clocked_store, order, show

WINDOW = timedelta(hours=168)


def _order(user: str, at: datetime, order_id: str = "SO-1") -> Order:
    return Order(order_id, user, Decimal("10.00"), "CNY", at)


def _click(user: str, at: datetime, campaign: str | None, variant: str) -> Click:
    return Click(user, campaign, variant, at)


def test_the_last_click_before_the_order_wins() -> None:
    clicks = [
        _click("u1", T0, "double12-reminder", "plain"),
        _click("u1", T0 + timedelta(hours=5), "buds-pro2-launch", "card"),
        _click("u1", T0 + timedelta(hours=3), "double12-reminder", "urgent"),
        _click("u2", T0 + timedelta(hours=7), "double12-reminder", "plain"),
    ]
    (found,) = attribute([_order("u1", T0 + timedelta(hours=6))], clicks, WINDOW)
    assert (found.campaign, found.variant) == ("buds-pro2-launch", "card")


def test_a_click_after_the_order_does_not_count() -> None:
    clicks = [
        _click("u1", T0, "double12-reminder", "plain"),
        _click("u1", T0 + timedelta(hours=2), "buds-pro2-launch", "card"),
    ]
    (found,) = attribute([_order("u1", T0 + timedelta(hours=1))], clicks, WINDOW)
    assert (found.campaign, found.variant) == ("double12-reminder", "plain")
    (none,) = attribute([_order("u1", T0 - timedelta(seconds=1))], clicks, WINDOW)
    assert none.click is None and none.campaign is None and none.variant is None


def test_the_window_includes_its_edge_and_nothing_before() -> None:
    clicks = [_click("u1", T0, "double12-reminder", "plain")]
    edge, late = attribute(
        [
            _order("u1", T0 + WINDOW, "SO-1"),
            _order("u1", T0 + WINDOW + timedelta(seconds=1), "SO-2"),
        ],
        clicks,
        WINDOW,
    )
    assert edge.variant == "plain"
    assert late.click is None
    (same_time,) = attribute([_order("u1", T0)], clicks, WINDOW)
    assert same_time.variant == "plain"


def test_another_customers_click_or_no_click_leaves_it_unattributed() -> None:
    clicks = [_click("u2", T0, "double12-reminder", "plain")]
    assert (
        attribute([_order("u1", T0 + timedelta(hours=1))], clicks, WINDOW)[0].click
        is None
    )
    assert attribute([_order("u1", T0)], [], WINDOW)[0].click is None


def test_each_order_of_one_customer_is_attributed_on_its_own() -> None:
    clicks = [
        _click("u1", T0, "double12-reminder", "plain"),
        _click("u1", T0 + timedelta(days=3), None, "hybrid"),
    ]
    orders = [
        _order("u1", T0 + timedelta(days=1), "SO-1"),
        _order("u1", T0 + timedelta(days=4), "SO-2"),
        _order("u1", T0 + timedelta(days=11), "SO-3"),
    ]
    found = attribute(orders, clicks, WINDOW)
    assert [(a.order.order_id, a.campaign, a.variant) for a in found] == [
        ("SO-1", "double12-reminder", "plain"),
        ("SO-2", None, "hybrid"),  # a recommendation's click
        ("SO-3", None, None),  # 8 days after the last click
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["marketing_db", "postgres_db"])
def store(request: pytest.FixtureRequest, clock: Clock) -> MarketingStore:
    return clocked_store(request, clock)


def test_orders_in_the_store_are_attributed_to_logged_clicks(
    store: MarketingStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    show(store, "u1", "t1", "double12-reminder", "plain")
    show(store, "u1", "t2", "buds-pro2-launch", "card")
    show(store, "u2", "t3", "double12-reminder", "urgent")
    show(store, "u3", "t4", "double12-reminder", "plain")
    clock.advance(hours=1)
    click(store, "t1")
    click(store, "t3")
    clock.advance(hours=1)
    click(store, "t2")  # u1's last click
    clock.advance(hours=1)
    order(store, "SO-1", "t1", "4999")  # names t1, but t2 was clicked last
    order(store, "SO-2", "t4", "10")  # u3 never clicked
    clock.advance(hours=200)
    order(store, "SO-3", "t3", "20")  # u2's click is 202 hours old
    found = attributed_orders(store, None, clock.at, WINDOW)
    assert [(a.order.order_id, a.campaign, a.variant) for a in found] == [
        ("SO-1", "buds-pro2-launch", "card"),
        ("SO-2", None, None),
        ("SO-3", None, None),
    ]
    wider = attributed_orders(store, None, clock.at, timedelta(hours=300))
    assert wider[2].variant == "urgent"
    later = attributed_orders(store, clock.at, clock.at, WINDOW)
    assert [a.order.order_id for a in later] == ["SO-3"]
    assert attributed_orders(store, None, T0, WINDOW) == []
    # Past the size of a customer filter, every click of the period is read.
    monkeypatch.setattr(attribution, "MAX_USER_FILTER", 1)
    assert attributed_orders(store, None, clock.at, WINDOW) == found
