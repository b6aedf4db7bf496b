"""Orders: what the shop may send, and each order recorded once, on both databases."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from marketing.orders import (
    MAX_AMOUNT,
    Order,
    OrderError,
    Outcome,
    orders_between,
    parse_amount,
    parse_currency,
    parse_id,
    parse_order,
    record_order,
)
from marketing.store import IMPRESSION, PURCHASE, MarketingStore
from tests.marketing.fixtures import T0
from tests.marketing.seeding import Clock, clocked_store, show


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["marketing_db", "postgres_db"])
def store(request: pytest.FixtureRequest, clock: Clock) -> MarketingStore:
    return clocked_store(request, clock)


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("4999", Decimal("4999.00")),
        ("19.9", Decimal("19.90")),
        (" 0.01 ", Decimal("0.01")),
        (25, Decimal("25.00")),
        (Decimal("12.50"), Decimal("12.50")),
        (12.5, Decimal("12.50")),
        ("1E+2", Decimal("100.00")),
        (str(MAX_AMOUNT), MAX_AMOUNT),
    ],
)
def test_amounts_in_cents(raw: object, amount: Decimal) -> None:
    assert parse_amount(raw) == amount
    assert parse_amount(raw).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "raw",
    ["0", "-5", "0.001", "12.345", "abc", "", "NaN", "Infinity", True, None, [1],
     {"v": 1}, str(MAX_AMOUNT + 1), "1e30"],
)  # fmt: skip
def test_unusable_amounts_are_refused(raw: object) -> None:
    with pytest.raises(OrderError, match="amount"):
        parse_amount(raw)


def test_currencies_and_ids() -> None:
    assert parse_currency(None, "CNY") == "CNY"
    assert parse_currency("usd", "CNY") == "USD"
    for bad in ("YUAN", "C1Y", "", "人民币", 156):
        with pytest.raises(OrderError, match="currency"):
            parse_currency(bad, "CNY")
    assert parse_id(" SO-1 ", "order_id") == "SO-1"
    assert parse_id(20261212, "order_id") == "20261212"
    for bad_id in ("", "x" * 65, "a\nb", None, True, 1.5):
        with pytest.raises(OrderError, match="order_id"):
            parse_id(bad_id, "order_id")


def test_an_order_body_or_the_older_purchase_body() -> None:
    assert parse_order({"tracking_id": "t1", "timestamp": 1}, "CNY") is None
    order = parse_order(
        {"tracking_id": "t1", "order_id": "SO-1", "amount": Decimal("19.9")}, "CNY"
    )
    assert order is not None
    assert (order.order_id, order.amount, order.currency, order.item_id) == (
        "SO-1", Decimal("19.90"), "CNY", None,
    )  # fmt: skip
    with pytest.raises(OrderError, match="order_id is required"):
        parse_order({"tracking_id": "t1", "amount": "5"}, "CNY")
    with pytest.raises(OrderError, match="amount is required"):
        parse_order({"tracking_id": "t1", "order_id": "SO-1"}, "CNY")
    with pytest.raises(OrderError, match="item_id"):
        parse_order({"order_id": "SO-1", "amount": "5", "item_id": ""}, "CNY")


def test_an_order_is_recorded_once_with_its_purchase(
    store: MarketingStore, clock: Clock
) -> None:
    show(store, "u1", "t1", "double12-reminder", "plain")
    clock.advance(hours=2)
    first = record_order(store, "SO-1", "t1", Decimal("4999.00"), "CNY")
    again = record_order(store, "SO-1", "t1", Decimal("4999.00"), "CNY")
    assert (first, again) == (Outcome.RECORDED, Outcome.DUPLICATE)
    assert record_order(store, "SO-2", "nope", Decimal("1"), "CNY") is (
        Outcome.UNKNOWN_TRACKING_ID
    )
    assert orders_between(store, None, clock.at) == [
        Order("SO-1", "u1", Decimal("4999.00"), "CNY", clock.at, "t1", "ph-x5")
    ]
    history = store.history("u1")
    assert [(i.event, i.campaign, i.variant) for i in history] == [
        (IMPRESSION, "double12-reminder", "plain"),
        (PURCHASE, "double12-reminder", "plain"),
    ]
    assert orders_between(store, clock.at + (clock.at - T0), clock.at) == []
    assert orders_between(store, T0, T0) == []


def test_the_item_bought_may_differ_from_the_one_shown(
    store: MarketingStore, clock: Clock
) -> None:
    show(store, "u1", "t1", None, "hybrid")
    assert record_order(store, "SO-9", "t1", Decimal("99"), "USD", "au-buds-pro2") is (
        Outcome.RECORDED
    )
    (stored,) = orders_between(store, None, clock.at)
    assert (stored.item_id, stored.currency, stored.amount) == (
        "au-buds-pro2", "USD", Decimal("99.00"),
    )  # fmt: skip


def test_a_duplicate_committed_between_check_and_insert_is_a_duplicate(
    store: MarketingStore,
) -> None:
    """The race of two requests with one order id, made deterministic."""
    show(store, "u1", "t1", None, "hybrid")
    orders = store.table("orders")
    raced: list[bool] = []

    def other_request_commits_first(
        conn: Any, cursor: Any, statement: str, *args: Any
    ) -> None:
        if statement.startswith("INSERT INTO") and "orders" in statement and not raced:
            raced.append(True)
            with store.engine.begin() as other:
                other.execute(
                    orders.insert(),
                    [{"order_id": "SO-1", "user_id": "u1", "amount": Decimal("5"),
                      "currency": "CNY", "created_at": T0}],
                )  # fmt: skip

    sa.event.listen(store.engine, "before_cursor_execute", other_request_commits_first)
    try:
        outcome = record_order(store, "SO-1", "t1", Decimal("5"), "CNY")
    finally:
        sa.event.remove(
            store.engine, "before_cursor_execute", other_request_commits_first
        )
    assert raced and outcome is Outcome.DUPLICATE
    with store.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(orders)).scalar()
            == 1
        )
    # The losing request's purchase was rolled back with its order.
    assert [i.event for i in store.history("u1")] == [IMPRESSION]


def test_concurrent_duplicates_record_one_order(postgres_db: MarketingStore) -> None:
    show(postgres_db, "u1", "t1", None, "hybrid")
    barrier = threading.Barrier(8)
    outcomes: list[Outcome] = []

    def send() -> None:
        barrier.wait()
        outcomes.append(record_order(postgres_db, "SO-7", "t1", Decimal("10"), "CNY"))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.value for o in outcomes) == ["duplicate"] * 7 + ["ok"]
    assert len(orders_between(postgres_db, None, T0)) == 1
    assert [i.event for i in postgres_db.history("u1")] == [IMPRESSION, PURCHASE]


def test_erasing_a_customer_erases_their_orders(
    store: MarketingStore,
) -> None:
    show(store, "u1", "t1", None, "hybrid")
    record_order(store, "SO-1", "t1", Decimal("5"), "CNY")
    assert store.erase_user("u1")["orders"] == 1
    assert orders_between(store, None, store.now()) == []
