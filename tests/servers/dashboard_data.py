"""Known dashboard numbers: fixed campaign reports, and a store seeded by hand.

The campaign rows stand in for :func:`marketing.report.campaign_reports` (tested
where it lives); the seeded store gives the funnel and the sentiment series
whose counts the tests know: the funnel below, and a spike of negative messages
on :data:`SPIKE_DAY` (the last day) after 14 calm days.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

from marketing.daily_activity import DayActivity
from marketing.lead_funnel import FunnelStep
from marketing.report import (
    CampaignReport,
    Comparison,
    DailyPoint,
    Interval,
    VariantResult,
)
from marketing.sentiment_watch import DayShare
from marketing.store import CLICK, IMPRESSION, Interaction, MarketingStore

NOW = datetime(2026, 12, 12, 18, 0)
SPIKE_DAY = NOW.date()
CALM_DAYS = 14
# Per calm day: 40 messages, 4 negative (10%); the spike day: 40, 20 negative.
MESSAGES_PER_DAY, CALM_NEGATIVE, SPIKE_NEGATIVE = 40, 4, 20
SEGMENTS = {"audio-fans": 42, "hot-leads": 7, "lapsed": 0}
# seen 12 (10 wrote + 2 only clicked), wrote 10, lead with consent 5
# (+1 without consent), score >= 0.6: 3, bought: 2 (+1 order of a non-lead).
FUNNEL = {"seen": 12, "wrote": 10, "lead": 5, "qualified": 3, "bought": 2}
MIN_SCORE = 0.6
# (writer, score, consent to a callback)
LEADS = ((0, 0.9, True), (1, 0.8, True), (2, 0.6, True), (3, 0.3, True),
         (4, 0.2, True), (5, 0.95, False))  # fmt: skip


def _variant(
    variant: str,
    sent: int,
    clicks: int,
    conversions: int,
    revenue: str,
    cost: str,
    roi: float | None,
) -> VariantResult:
    return VariantResult(
        campaign="double12-reminder",
        variant=variant,
        sent=sent,
        impressions=sent,
        clicks=clicks,
        conversions=conversions,
        revenue=Decimal(revenue),
        cost=Decimal(cost),
        currency="CNY",
        ctr=clicks / sent,
        ctr_interval=Interval(max(0.0, clicks / sent - 0.06), clicks / sent + 0.07),
        conversion_rate=conversions / sent,
        conversion_interval=Interval(0.0, conversions / sent + 0.04),
        roi=roi,
    )


def campaign_reports() -> list[CampaignReport]:
    """One A/B campaign, 200 recipients, no winner yet, three days of points."""
    plain = _variant("plain", 100, 12, 3, "897.00", "250.00", 2.588)
    urgent = _variant("urgent", 100, 20, 5, "1495.00", "250.00", 4.98)
    total = _variant("*", 200, 32, 8, "2392.00", "500.00", 3.784)
    days = [SPIKE_DAY - timedelta(days=d) for d in (2, 1, 0)]
    daily = [
        DailyPoint(day, "double12-reminder", name, 33, clicks, 1, Decimal(amount))
        for name, per_day in (
            ("plain", ((4, "299.00"), (4, "299.00"), (4, "299.00"))),
            ("urgent", ((6, "299.00"), (7, "598.00"), (7, "598.00"))),
        )
        for day, (clicks, amount) in zip(days, per_day, strict=True)
    ]
    comparison = Comparison(
        campaign="double12-reminder",
        control="plain",
        p_values={"urgent": 0.137},
        winner=None,
        verdict="no winner yet: underpowered: 200 recipients, about 1,100 needed",
    )
    return [
        CampaignReport(
            "double12-reminder", "双12预约抽奖提醒", total, [plain, urgent],
            comparison, daily,
        )
    ]  # fmt: skip


def sentiment_series(days: int) -> list[DayShare]:
    """The seeded negative-share series, the last ``days`` days up to the spike."""
    series = []
    for offset in range(days - 1, -1, -1):
        day = SPIKE_DAY - timedelta(days=offset)
        if offset == 0:
            series.append(DayShare(day, MESSAGES_PER_DAY, SPIKE_NEGATIVE))
        elif offset <= CALM_DAYS:
            series.append(DayShare(day, MESSAGES_PER_DAY, CALM_NEGATIVE))
        else:
            series.append(DayShare(day, 0, 0))
    return series


class FakeSource:
    """A dashboard source with the known numbers, or one that is down or hung.

    Args:
        down: Every call raises, as with the database down.
        hang: Every call waits for this event first, as with a hung database.
    """

    def __init__(self, down: bool = False, hang: threading.Event | None = None) -> None:
        self.down = down
        self.hang = hang

    def _check(self) -> None:
        if self.hang is not None:
            self.hang.wait(10)
        if self.down:
            raise ConnectionError("database down")

    def campaign_reports(self) -> list[CampaignReport]:
        self._check()
        return campaign_reports()

    def segment_sizes(self) -> dict[str, int]:
        self._check()
        return dict(SEGMENTS)

    def lead_funnel(self) -> list[FunnelStep]:
        self._check()
        return [FunnelStep(step, step, count) for step, count in FUNNEL.items()]

    def negative_share_by_day(self, days: int) -> list[DayShare]:
        self._check()
        return sentiment_series(days)

    def daily_activity(self, days: int) -> list[DayActivity]:
        self._check()
        return [
            DayActivity(
                messages=day.messages,
                negative=day.negative,
                neutral=day.messages - day.negative,
                actions=day.messages,
                intents={"ask_price": day.messages} if day.messages else {},
                day=day.day,
                followers=10 if day.messages else 0,
            )
            for day in sentiment_series(days)
        ]


def seed(store: MarketingStore) -> None:
    """Writes the activity, interactions, leads and orders behind the known numbers."""
    activity = []
    for offset in range(CALM_DAYS, -1, -1):
        day = datetime.combine(SPIKE_DAY - timedelta(days=offset), datetime.min.time())
        negative = SPIKE_NEGATIVE if offset == 0 else CALM_NEGATIVE
        for n in range(MESSAGES_PER_DAY):
            activity.append(
                {
                    # 10 followers write; the messages spread over them.
                    "user_id": f"o-writer-{n % 10}",
                    "kind": "message",
                    "intent": "ask_price",
                    "category": "audio",
                    "sentiment": "negative" if n < negative else "neutral",
                    "scene": None,
                    "created_at": day + timedelta(hours=9, minutes=n),
                }
            )
    activity.append(
        {"user_id": "o-writer-0", "kind": "subscribe", "intent": None,
         "category": None, "sentiment": None, "scene": "poster",
         "created_at": NOW - timedelta(days=20)}
    )  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(store.table("activity").insert(), activity)
        connection.execute(
            store.table("leads").insert(),
            [_lead(f"o-writer-{n}", score, consent) for n, score, consent in LEADS],
        )
        connection.execute(
            store.table("orders").insert(),
            [
                _order("A1", "o-writer-0"),
                _order("A2", "o-writer-1"),
                _order("A3", "o-writer-1"),
                _order("A4", "o-clicker-1"),
            ],
        )
    store.log(
        Interaction(user, "au-buds-pro2", event, "plain", "double12-reminder",
                    f"t{user[-1]}{event[0]}", NOW - timedelta(days=1))
        for user in ("o-clicker-1", "o-clicker-2")
        for event in (IMPRESSION, CLICK)
    )  # fmt: skip


def _lead(user: str, score: float, consent: bool) -> dict[str, object]:
    return {
        "ref": f"ref-{user}",
        "user_id": user,
        "name": "测试",
        "phone_encrypted": "sealed",
        "phone_masked": "138****5678",
        "consent": consent,
        "consent_at": NOW if consent else None,
        "marketing_consent": False,
        "score": score,
        "campaign": None,
        "created_at": NOW - timedelta(days=3),
    }


def _order(order_id: str, user: str) -> dict[str, object]:
    return {
        "order_id": order_id,
        "user_id": user,
        "tracking_id": None,
        "item_id": "au-buds-pro2",
        "amount": Decimal("299.00"),
        "currency": "CNY",
        "coupon_code": None,
        "created_at": NOW - timedelta(days=1),
    }


def day_of(offset: int) -> date:
    """The day ``offset`` days before the spike."""
    return SPIKE_DAY - timedelta(days=offset)
