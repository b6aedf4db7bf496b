"""The campaign report over a seeded store, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from marketing.campaigns import Campaign, parse_campaign
from marketing.experiments import CONVERSION, Interval, wilson_interval
from marketing.report import (
    NO_CAMPAIGN,
    TOTAL,
    CampaignReport,
    DailyPoint,
    VariantResult,
    campaign_reports,
    report_as_dict,
)
from marketing.store import MarketingStore
from tests.marketing.fixtures import T0
from tests.marketing.seeding import Clock, click, clocked_store, order, show

WINDOW = timedelta(hours=168)
DAY1, DAY2 = T0.date(), T0.date() + timedelta(days=1)


def _campaign(campaign_id: str, cost: int, *variants: str) -> Campaign:
    return parse_campaign(
        {
            "id": campaign_id,
            "url": "https://shop.example/c",
            "cost": cost,
            "variants": [
                {"name": v, "message": {"type": "text", "text": f"{v} {{link}}"}}
                for v in variants
            ],
        }
    )


CAMPAIGNS = {
    "double12": _campaign("double12", 500, "plain", "urgent"),
    "buds": _campaign("buds", 1200, "text", "card"),
}


def _sent(store: MarketingStore, user: str, variant: str, status: str = "sent") -> None:
    now = store.now()
    with store.engine.begin() as connection:
        connection.execute(
            store.table("campaign_sends").insert(),
            [{"campaign": "double12", "user_id": user, "variant": variant,
              "channel": "customer_service", "status": status, "tracking_id": None,
              "attempts": 1, "created_at": now, "updated_at": now}],
        )  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["marketing_db", "postgres_db"])
def store(request: pytest.FixtureRequest, clock: Clock) -> MarketingStore:
    """Two pushed variants, a recommendation, orders on two days."""
    store = clocked_store(request, clock)
    for user, variant in (("u1", "plain"), ("u2", "plain"), ("u3", "plain"),
                          ("u4", "urgent")):  # fmt: skip
        _sent(store, user, variant)
        show(store, user, f"t-{user}", "double12", variant)
    _sent(store, "u9", "plain", status="failed")
    show(store, "u5", "t-u5", None, "hybrid")
    clock.advance(hours=1)
    for tracking_id in ("t-u1", "t-u1", "t-u2", "t-u4", "t-u5"):
        click(store, tracking_id)
    clock.advance(hours=1)
    order(store, "SO-1", "t-u1", "400")
    order(store, "SO-2", "t-u1", "100.50")
    order(store, "SO-3", "t-u2", "10", currency="USD")
    order(store, "SO-4", "t-u3", "999")  # u3 never clicked: no campaign's
    order(store, "SO-5", "t-u5", "30")
    clock.advance(days=1)
    order(store, "SO-6", "t-u4", "200")
    return store


def _reports(store: MarketingStore, **kwargs: object) -> dict[str, CampaignReport]:
    reports = campaign_reports(store, CAMPAIGNS, store.now(), WINDOW, **kwargs)  # type: ignore[arg-type]
    return {r.campaign: r for r in reports}


def test_counts_revenue_cost_and_roi_per_variant(store: MarketingStore) -> None:
    reports = _reports(store)
    assert list(reports) == ["double12", "buds", NO_CAMPAIGN]
    plain, urgent = reports["double12"].variants
    assert plain == VariantResult(
        campaign="double12", variant="plain", sent=3, impressions=3,
        clicks=2,  # t-u1 clicked twice counts once
        conversions=2, revenue=Decimal("500.50"),
        cost=Decimal("375.00"),  # 3 of the 4 sent
        currency="CNY", ctr=2 / 3, ctr_interval=wilson_interval(2, 3),
        conversion_rate=2 / 3, conversion_interval=wilson_interval(2, 3),
        roi=(500.50 - 375) / 375, recipients=3,
        revenue_per_recipient=500.50 / 3,
        revenue_interval=plain.revenue_interval,
        other_currency_orders=1,  # u2's USD order: a conversion, not revenue
    )  # fmt: skip
    assert plain.revenue_interval is not None and plain.revenue_interval.low == 0.0
    assert (urgent.sent, urgent.clicks, urgent.conversions, urgent.revenue) == (
        1, 1, 1, Decimal("200.00"),
    )  # fmt: skip
    assert urgent.cost == Decimal("125.00")
    assert urgent.roi == pytest.approx(0.6)
    assert urgent.revenue_interval is None  # one recipient
    total = reports["double12"].total
    assert (total.variant, total.sent, total.impressions, total.clicks) == (
        TOTAL, 4, 4, 3,
    )  # fmt: skip
    assert (total.conversions, total.revenue, total.cost) == (
        3, Decimal("700.50"), Decimal("500.00"),
    )  # fmt: skip
    assert total.roi == pytest.approx(200.50 / 500)


def test_the_verdict_waits_for_enough_recipients(store: MarketingStore) -> None:
    comparison = _reports(store)["double12"].comparison
    assert comparison is not None
    assert (comparison.control, comparison.metric, comparison.winner) == (
        "plain", CONVERSION, None,
    )  # fmt: skip
    assert comparison.verdict.startswith("no winner yet: urgent has 1 of the 100")
    assert set(comparison.p_values) == {"urgent"}


def test_undeclared_and_idle_campaigns_are_reported(store: MarketingStore) -> None:
    reports = _reports(store)
    recommended = reports[NO_CAMPAIGN]
    assert [v.variant for v in recommended.variants] == ["hybrid"]
    hybrid = recommended.variants[0]
    assert (hybrid.sent, hybrid.impressions, hybrid.clicks, hybrid.recipients) == (
        0, 1, 1, 1,
    )  # fmt: skip
    assert (hybrid.revenue, hybrid.cost, hybrid.roi) == (
        Decimal("30.00"), Decimal("0.00"), None,
    )  # fmt: skip
    assert recommended.comparison is None
    idle = reports["buds"]
    assert [(v.variant, v.cost, v.roi) for v in idle.variants] == [
        ("text", Decimal("600.00"), -1.0),
        ("card", Decimal("600.00"), -1.0),
    ]
    assert idle.total.ctr_interval == Interval(0.0, 1.0)
    assert idle.comparison is not None and idle.comparison.winner is None


def test_daily_points(store: MarketingStore) -> None:
    daily = _reports(store)["double12"].daily
    assert daily == [
        DailyPoint(DAY1, "double12", "plain", 3, 2, 2, Decimal("500.50")),
        DailyPoint(DAY1, "double12", "urgent", 1, 1, 0, Decimal("0.00")),
        DailyPoint(DAY2, "double12", "urgent", 0, 0, 1, Decimal("200.00")),
    ]


def test_since_and_only(store: MarketingStore, clock: Clock) -> None:
    later = _reports(store, since=T0 + timedelta(hours=12))
    urgent = later["double12"].variants[1]
    # The order of day 2 still counts for the click of day 1 (in the window).
    assert (urgent.sent, urgent.impressions, urgent.conversions, urgent.revenue) == (
        0, 0, 1, Decimal("200.00"),
    )  # fmt: skip
    assert NO_CAMPAIGN not in later
    only = _reports(store, only={NO_CAMPAIGN})
    assert list(only) == [NO_CAMPAIGN]
    assert _reports(store, only={"nope"}) == {}


def test_the_report_as_json(store: MarketingStore) -> None:
    data = [report_as_dict(r) for r in _reports(store).values()]
    parsed = json.loads(json.dumps(data))
    first = parsed[0]
    assert first["total"]["revenue"] == "700.50"
    assert first["variants"][0]["ctr_interval"] == {
        "low": pytest.approx(wilson_interval(2, 3).low),
        "high": pytest.approx(wilson_interval(2, 3).high),
    }
    assert first["daily"][0]["day"] == DAY1.isoformat()
    assert first["comparison"]["winner"] is None
    assert parsed[2]["total"]["roi"] is None
    assert date.fromisoformat(first["daily"][-1]["day"]) == DAY2


def test_cost_shares_add_up_to_the_cost(marketing_db: MarketingStore) -> None:
    three = _campaign("three", 100, "a", "b", "c")
    (report,) = campaign_reports(marketing_db, [three], T0, WINDOW)
    costs = [v.cost for v in report.variants]
    assert sorted(costs) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert sum(costs) == report.total.cost == Decimal("100.00")
