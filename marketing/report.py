"""What a campaign earned, per campaign and per variant: the report's rows.

Counts come from the store (sends, impressions, clicks, orders attributed to
the last tracked click, :mod:`marketing.attribution`); rates carry 95% intervals
and variants a significance test (:mod:`marketing.experiments`). The CLI prints
these rows, the admin API serves them as JSON and the dashboard draws them.
No Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Interval:
    """A 95% confidence interval."""

    low: float
    high: float


@dataclass(frozen=True)
class VariantResult:
    """One variant of one campaign (or the whole campaign, ``variant`` "*")."""

    campaign: str
    variant: str
    # Recipients the message reached (sent), and their impressions.
    sent: int
    impressions: int
    clicks: int
    # Followers who bought, by attribution to a click of this variant.
    conversions: int
    revenue: Decimal
    # The campaign's cost shared by the variants in proportion to what was sent.
    cost: Decimal
    currency: str
    ctr: float
    ctr_interval: Interval
    conversion_rate: float
    conversion_interval: Interval
    # (revenue - cost) / cost; None without a cost.
    roi: float | None


@dataclass(frozen=True)
class Comparison:
    """The A/B verdict of a campaign with several variants."""

    campaign: str
    # The variant compared against the others (the first declared).
    control: str
    # Two-proportion test of conversion (else click-through) per other variant.
    p_values: dict[str, float]
    # The winning variant, or None: "no winner yet".
    winner: str | None
    # Why there is no winner (underpowered, no significant difference).
    verdict: str


@dataclass(frozen=True)
class DailyPoint:
    """One day of one campaign: what the charts draw over time."""

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
