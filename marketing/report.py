"""What a campaign earned, per campaign and per variant: the report's rows.

Counts come from the store (sends, impressions, clicks, orders attributed to
the last tracked click: :mod:`marketing.campaign_counts`); rates carry 95%
intervals and variants a significance test (:mod:`marketing.experiments`). The
CLI prints these rows (``aurora-marketing report``), the admin API serves them as
JSON (:func:`report_as_dict`) and the dashboard draws them. No Rasa.

Rates and shares, per variant:

- click-through: impressions clicked / impressions;
- recipients: what was sent when the campaign went out through
  ``aurora-marketing send``, else its impressions (recommendations, copy
  variants); conversion (buyers / recipients), revenue per recipient and the
  campaign's cost are shared on them;
- revenue: attributed orders in the campaign's currency (orders in another are
  counted as conversions and in ``other_currency_orders``, never summed);
- ROI: (revenue - cost) / cost, None without a cost.

Campaigns seen in the store but not declared in ``data/campaigns.yml``
(recommendations, copy generator variants) are reported too, at zero cost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from marketing.campaign_counts import (
    NO_CAMPAIGN,
    CampaignCounts,
    Tally,
    count_campaigns,
)
from marketing.campaigns import Campaign
from marketing.experiments import (
    CLICK_THROUGH,
    CONVERSION,
    Arm,
    Comparison,
    Interval,
    compare,
    mean_interval,
    wilson_interval,
)
from marketing.orders import CENT, Order
from marketing.settings import Settings
from marketing.store import MarketingStore

__all__ = [
    "NO_CAMPAIGN",
    "TOTAL",
    "CampaignReport",
    "Comparison",
    "DailyPoint",
    "Interval",
    "VariantResult",
    "campaign_reports",
    "report_as_dict",
]

# The variant name of a campaign's total row.
TOTAL = "*"


@dataclass(frozen=True)
class VariantResult:
    """One variant of one campaign (or the whole campaign, ``variant`` "*")."""

    campaign: str
    variant: str
    # Recipients the message reached (sent), and their impressions.
    sent: int
    impressions: int
    # Impressions clicked (a link followed twice counts once).
    clicks: int
    # Followers who bought, by attribution to a click of this variant.
    conversions: int
    revenue: Decimal
    # The campaign's cost shared by the variants in proportion to what was sent
    # (to impressions when nothing was sent).
    cost: Decimal
    currency: str
    ctr: float
    ctr_interval: Interval
    conversion_rate: float
    conversion_interval: Interval
    # (revenue - cost) / cost; None without a cost.
    roi: float | None
    # What conversion and revenue per recipient divide by: sent, else impressions.
    recipients: int = 0
    revenue_per_recipient: float = 0.0
    # Student-t 95% interval; None with fewer than two recipients.
    revenue_interval: Interval | None = None
    # Attributed orders in another currency than ``currency`` (not in revenue).
    other_currency_orders: int = 0


@dataclass(frozen=True)
class DailyPoint:
    """One day of one campaign's variant: what the charts draw over time."""

    day: date
    campaign: str
    variant: str
    impressions: int
    clicks: int
    conversions: int
    revenue: Decimal


@dataclass(frozen=True)
class CampaignReport:
    """Everything the report shows for one campaign."""

    campaign: str
    title: str
    total: VariantResult
    variants: list[VariantResult]
    comparison: Comparison | None
    daily: list[DailyPoint] = field(default_factory=list)


def campaign_reports(
    store: MarketingStore,
    campaigns: Mapping[str, Campaign] | Sequence[Campaign],
    now: datetime,
    window: timedelta,
    since: datetime | None = None,
    only: Collection[str] | None = None,
    currency: str = Settings.currency,
) -> list[CampaignReport]:
    """The report of every campaign: declared ones first, then those only seen.

    Args:
        store: The marketing store.
        campaigns: The declared campaigns (``load_campaigns``), by id or listed.
        now: The end of the reported period (UTC, naive).
        window: The attribution window (``Settings.attribution_window_hours``).
        since: The start of the reported period (None: from the start).
        only: Report these campaign ids only (None: all).
        currency: The currency of campaigns not declared (``Settings.currency``).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: The database failed.
    """
    declared = list(campaigns.values() if isinstance(campaigns, Mapping) else campaigns)
    counts = count_campaigns(store, since, now, window)
    reports = []
    for campaign in declared:
        if only is not None and campaign.id not in only:
            continue
        names = [v.name for v in campaign.variants]
        names += [v for v in counts.variants_of(campaign.id) if v not in names]
        weights = [v.weight for v in campaign.variants]
        weights += [0.0] * (len(names) - len(weights))
        reports.append(
            _report(campaign.id, campaign.title, names, weights, counts,
                    campaign.cost, campaign.currency)
        )  # fmt: skip
    ids = {c.id for c in declared}
    for seen in counts.campaigns():
        if seen in ids or (only is not None and seen not in only):
            continue
        names = counts.variants_of(seen)
        reports.append(
            _report(seen, seen, names, [1.0] * len(names), counts, Decimal(0), currency)
        )
    return reports


def _report(
    campaign: str,
    title: str,
    names: list[str],
    weights: list[float],
    counts: CampaignCounts,
    cost: Decimal,
    currency: str,
) -> CampaignReport:
    tallies = [counts.variants.get((campaign, name), Tally()) for name in names]
    by_sent = any(t.sent for t in tallies)
    bases: Sequence[float] = (
        [t.sent for t in tallies] if by_sent else [t.impressions for t in tallies]
    )
    if not any(bases):
        bases = weights  # nothing sent or shown: the declared split
    costs = _shares(cost, bases)
    results = [
        _result(campaign, name, tally, share, currency, by_sent)
        for name, tally, share in zip(names, tallies, costs, strict=True)
    ]
    whole = Tally(
        sent=sum(t.sent for t in tallies),
        impressions=sum(t.impressions for t in tallies),
        clicks=sum(t.clicks for t in tallies),
        orders=[o for t in tallies for o in t.orders],
    )
    daily = [
        DailyPoint(day, campaign, variant, t.impressions, t.clicks,
                   len({o.user_id for o in t.orders}),
                   _revenue(t.orders, currency)[0])
        for (c, variant, day), t in sorted(counts.days.items())
        if c == campaign
    ]  # fmt: skip
    return CampaignReport(
        campaign=campaign,
        title=title,
        total=_result(campaign, TOTAL, whole, cost, currency, by_sent),
        variants=results,
        comparison=_comparison(campaign, results) if len(results) > 1 else None,
        daily=daily,
    )


def _shares(cost: Decimal, bases: Sequence[float]) -> list[Decimal]:
    """``cost`` split in proportion to ``bases``, in cents, summing to ``cost``."""
    total = sum(bases)
    if not total:
        return [Decimal(0)] * len(bases)
    shares = [(cost * Decimal(b) / Decimal(total)).quantize(CENT) for b in bases]
    # Rounding leftovers go to the largest share, so the shares add up.
    largest = max(range(len(bases)), key=lambda i: bases[i])
    shares[largest] += cost - sum(shares, Decimal(0))
    return shares


def _revenue(orders: Sequence[Order], currency: str) -> tuple[Decimal, int]:
    """Revenue in ``currency`` and the orders in another currency."""
    revenue = sum((o.amount for o in orders if o.currency == currency), Decimal(0))
    return revenue.quantize(CENT), sum(1 for o in orders if o.currency != currency)


def _result(
    campaign: str,
    variant: str,
    tally: Tally,
    cost: Decimal,
    currency: str,
    by_sent: bool,
) -> VariantResult:
    recipients = tally.sent if by_sent else tally.impressions
    revenue, other = _revenue(tally.orders, currency)
    spent: dict[str, Decimal] = {}
    for order in tally.orders:
        if order.currency == currency:
            spent[order.user_id] = spent.get(order.user_id, Decimal(0)) + order.amount
    conversions = len({o.user_id for o in tally.orders})
    return VariantResult(
        campaign=campaign,
        variant=variant,
        sent=tally.sent,
        impressions=tally.impressions,
        clicks=tally.clicks,
        conversions=conversions,
        revenue=revenue,
        cost=cost.quantize(CENT),
        currency=currency,
        ctr=_rate(tally.clicks, tally.impressions),
        ctr_interval=wilson_interval(tally.clicks, tally.impressions),
        conversion_rate=_rate(conversions, recipients),
        conversion_interval=wilson_interval(conversions, recipients),
        roi=float((revenue - cost) / cost) if cost > 0 else None,
        recipients=recipients,
        revenue_per_recipient=_rate(float(revenue), recipients),
        revenue_interval=mean_interval([float(a) for a in spent.values()], recipients),
        other_currency_orders=other,
    )


def _rate(part: float, whole: int) -> float:
    return part / whole if whole else 0.0


def _comparison(campaign: str, results: Sequence[VariantResult]) -> Comparison:
    """Conversion tested when anybody bought, else click-through."""
    if any(r.conversions for r in results):
        arms = [Arm(r.variant, r.recipients, r.conversions) for r in results]
        return compare(campaign, arms, CONVERSION)
    arms = [Arm(r.variant, r.impressions, r.clicks) for r in results]
    return compare(campaign, arms, CLICK_THROUGH)


def report_as_dict(report: CampaignReport) -> dict[str, Any]:
    """The report as JSON-ready data: amounts as strings, days in ISO format."""
    return {k: _plain(v) for k, v in dataclasses.asdict(report).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
