"""Profiles aggregated from every table, on SQLite and the real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from marketing.profiles import Profile, build_profiles
from marketing.store import MarketingStore

NOW = datetime(2026, 12, 10, 12, 0)


def day(n: float) -> datetime:
    return NOW - timedelta(days=n)


def insert(store: MarketingStore, table: str, rows: list[dict[str, Any]]) -> None:
    with store.engine.begin() as connection:
        connection.execute(store.table(table).insert(), rows)


def activity(user: str, kind: str, at: datetime, **values: Any) -> dict[str, Any]:
    row = {"user_id": user, "kind": kind, "created_at": at, "event_id": None}
    row.update({"intent": None, "category": None, "sentiment": None, "scene": None})
    return {**row, **values}


def lead(user: str, score: float, consent: bool, at: datetime) -> dict[str, Any]:
    return {
        "ref": f"{user}-{score}",
        "user_id": user,
        "name": "张",
        "phone_encrypted": "x",
        "phone_masked": "138****0000",
        "consent": True,
        "marketing_consent": consent,
        "score": score,
        "created_at": at,
    }


def interaction(user: str, event: str, at: datetime) -> dict[str, Any]:
    return {
        "user_id": user,
        "item_id": "au-buds-pro2",
        "event": event,
        "variant": "A",
        "created_at": at,
    }


def seed(store: MarketingStore) -> None:
    insert(store, "activity", [
        activity("o_a", "subscribe", day(20), scene="store-sz"),
        activity("o_a", "scan", day(15), scene="expo"),
        activity("o_a", "message", day(3), intent="ask_price", category="耳机",
                 sentiment="negative"),
        activity("o_a", "message", day(1), intent="ask_product_info", category="手机",
                 sentiment="positive"),
        activity("o_a", "message", day(0.5), intent="thank"),  # no sentiment
        activity("o_a", "message", day(-1), intent="future"),  # after NOW: left out
        activity("o_b", "scan", day(9), scene="expo"),
        activity("o_b", "subscribe", day(8)),
        activity("o_b", "unsubscribe", day(2)),
        activity("o_c", "subscribe", day(40)),
        activity("o_c", "unsubscribe", day(35)),
        activity("o_c", "subscribe", day(30), scene="re"),
    ])  # fmt: skip
    insert(store, "interactions", [
        interaction("o_a", "impression", day(5)),
        interaction("o_a", "click", day(5)),
        interaction("o_a", "click", day(4)),
        interaction("o_d", "impression", day(4)),
        interaction("o_d", "purchase", day(4)),
    ])  # fmt: skip
    insert(store, "orders", [
        {"order_id": "1", "user_id": "o_a", "amount": Decimal("199.90"),
         "currency": "CNY", "created_at": day(2)},
        {"order_id": "2", "user_id": "o_a", "amount": Decimal("0.20"),
         "currency": "CNY", "created_at": day(1)},
        {"order_id": "3", "user_id": "o_orders_only", "amount": Decimal("5"),
         "currency": "CNY", "created_at": day(1)},
    ])  # fmt: skip
    insert(store, "leads", [
        lead("o_a", 0.4, True, day(6)),
        lead("o_a", 0.8, False, day(5)),
        lead("o_e", 0.7, True, day(3)),
    ])  # fmt: skip
    insert(store, "opt_outs", [{"user_id": "o_e", "created_at": day(1)}])
    insert(store, "campaign_signups", [
        {"user_id": "o_a", "campaign_id": "camp-double12-lottery",
         "created_at": day(2)},
        {"user_id": "o_a", "campaign_id": "camp-referral", "created_at": day(2)},
    ])  # fmt: skip


@pytest.fixture(params=["marketing_db", "postgres_db"])
def store(request: pytest.FixtureRequest) -> MarketingStore:
    found: MarketingStore = request.getfixturevalue(request.param)
    return found


def test_profiles_aggregate_every_table(store: MarketingStore) -> None:
    seed(store)
    profiles = build_profiles(store, NOW)
    assert sorted(profiles) == ["o_a", "o_b", "o_c", "o_d", "o_e"]
    assert profiles["o_a"] == Profile(
        user_id="o_a",
        scene="store-sz",
        intents=frozenset({"ask_price", "ask_product_info", "thank"}),
        categories=frozenset({"耳机", "手机"}),
        clicks=2,
        purchases=2,
        revenue=Decimal("200.10"),
        lead_score=0.8,
        sentiment="positive",
        last_active_at=day(0.5),
        subscribed=True,
        opted_out=False,
        marketing_consent=False,  # the latest lead said no
        campaigns=frozenset({"camp-double12-lottery", "camp-referral"}),
    )


def test_subscription_scene_and_consent_rules(store: MarketingStore) -> None:
    seed(store)
    profiles = build_profiles(store, NOW)
    b, c, d, e = (profiles[u] for u in ("o_b", "o_c", "o_d", "o_e"))
    # Unsubscribed; no subscribe scene, so the scan's; unsubscribing opens no window.
    assert (b.subscribed, b.scene, b.last_active_at) == (False, "expo", day(8))
    assert (c.subscribed, c.scene) == (True, "re")  # came back
    # Purchase events count where the shop reported no orders.
    assert (d.purchases, d.revenue, d.last_active_at) == (1, Decimal(0), None)
    # Consent is void once opted out.
    assert (e.opted_out, e.marketing_consent, e.lead_score) == (True, False, 0.7)
    assert e.intents == frozenset() and e.sentiment is None


def test_only_the_users_asked_for(store: MarketingStore) -> None:
    seed(store)
    profiles = build_profiles(store, NOW, user_ids=["o_b", "o_e", "o_nobody"])
    assert sorted(profiles) == ["o_b", "o_e"]
    assert profiles["o_e"].opted_out
    assert profiles == {
        k: v for k, v in build_profiles(store, NOW).items() if k in ("o_b", "o_e")
    }


def test_an_empty_store_has_no_followers(marketing_db: MarketingStore) -> None:
    assert build_profiles(marketing_db, NOW) == {}


def test_the_queries_do_not_grow_with_the_followers(
    marketing_db: MarketingStore,
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    rows = [activity(f"o_{n}", "message", day(1), intent="greet") for n in range(300)]
    insert(marketing_db, "activity", rows)
    sa.event.listen(marketing_db.engine, "before_cursor_execute", count)
    try:
        profiles = build_profiles(marketing_db, NOW)
    finally:
        sa.event.remove(marketing_db.engine, "before_cursor_execute", count)
    assert len(profiles) == 300
    assert len(statements) <= 15


def test_a_follower_who_opted_out_then_was_erased_and_came_back_stays_out(
    store: MarketingStore,
) -> None:
    store.opt_out("o_back")
    store.erase_user("o_back")
    insert(store, "activity", [activity("o_back", "message", day(0.1))])
    insert(store, "activity", [activity("o_new", "message", day(0.1))])
    profiles = build_profiles(store, NOW)
    assert profiles["o_back"].opted_out
    assert not profiles["o_new"].opted_out
