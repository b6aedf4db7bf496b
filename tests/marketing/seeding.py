"""A store on a clock the test moves, and helpers to log what customers did.

For the tests of orders, attribution and reports, which need events at given
times on SQLite and on the real PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from marketing.orders import Outcome, record_order
from marketing.store import CLICK, IMPRESSION, Interaction, MarketingStore
from tests.marketing.fixtures import T0


class Clock:
    """The time a store gives new rows; tests move it."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def clocked_store(request: pytest.FixtureRequest, clock: Clock) -> MarketingStore:
    """The ``marketing_db`` or ``postgres_db`` (``request.param``) on ``clock``."""
    base: MarketingStore = request.getfixturevalue(request.param)
    return MarketingStore(base.engine, schema=base.metadata.schema, clock=clock)


def show(
    store: MarketingStore,
    user: str,
    tracking_id: str,
    campaign: str | None,
    variant: str,
    item: str = "ph-x5",
) -> None:
    """Logs an impression at the store's time."""
    store.log(
        [
            Interaction(
                user, item, IMPRESSION, variant, campaign, tracking_id, store.now(),
                f"https://shop.example/p/{item}",
            )
        ]
    )  # fmt: skip


def click(store: MarketingStore, tracking_id: str) -> None:
    """Logs a click on the impression, at the store's time."""
    assert store.record_event(tracking_id, CLICK) is not None


def order(
    store: MarketingStore,
    order_id: str,
    tracking_id: str,
    amount: str,
    currency: str = "CNY",
) -> None:
    """Records an order at the store's time."""
    outcome = record_order(store, order_id, tracking_id, Decimal(amount), currency)
    assert outcome is Outcome.RECORDED
