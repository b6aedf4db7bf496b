"""What the dashboard shows, behind one seam the admin server is given.

The admin server (:mod:`servers.admin_server`) reads everything through a
:class:`DashboardSource`: campaign reports, segment sizes, the lead funnel, the
negative share per day and the followers' activity per day.
:class:`StoreDashboard` is the production source over the marketing store; tests
give the server a fake one. Its methods are synchronous (the server calls them
in a worker thread) and raise whatever the database raises when it is down.
No Rasa.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from marketing.campaigns import load_campaigns
from marketing.connection import StoreFactory
from marketing.daily_activity import DayActivity, daily_activity
from marketing.lead_funnel import FunnelStep, lead_funnel
from marketing.profiles import build_profiles
from marketing.report import CampaignReport, campaign_reports
from marketing.segments import load_segments, members
from marketing.sentiment_watch import DayShare, negative_share_by_day
from marketing.settings import Settings
from marketing.store import MarketingStore

# Computes a part of the dashboard from the store.
ReportsOf = Callable[[MarketingStore], list[CampaignReport]]
SegmentSizesOf = Callable[[MarketingStore], dict[str, int]]


class DashboardSource(Protocol):
    """Where the dashboard's numbers come from."""

    def campaign_reports(self) -> list[CampaignReport]:
        """Every campaign's report, totals, variants and days."""

    def segment_sizes(self) -> dict[str, int]:
        """Followers per declared segment (opted-out excluded), in file order."""

    def lead_funnel(self) -> list[FunnelStep]:
        """The lead funnel, widest step first."""

    def negative_share_by_day(self, days: int) -> list[DayShare]:
        """The last ``days`` days of messages and negative ones, oldest first."""

    def daily_activity(self, days: int) -> list[DayActivity]:
        """The last ``days`` days of messages, intents, sentiment and actions."""


class StoreDashboard:
    """The dashboard's numbers from the marketing store.

    Args:
        store: Makes the marketing store (a ``LazyStore`` in the server).
        campaign_reports: Computes the campaign reports from the store.
        segment_sizes: Counts each segment's followers in the store.
        min_lead_score: The score of a qualified lead (the funnel's 4th step).
    """

    def __init__(
        self,
        store: StoreFactory,
        campaign_reports: ReportsOf,
        segment_sizes: SegmentSizesOf,
        min_lead_score: float,
    ) -> None:
        self._store = store
        self._campaign_reports = campaign_reports
        self._segment_sizes = segment_sizes
        self._min_lead_score = min_lead_score

    def campaign_reports(self) -> list[CampaignReport]:
        """Every campaign's report."""
        return self._campaign_reports(self._store())

    def segment_sizes(self) -> dict[str, int]:
        """Followers per segment."""
        return self._segment_sizes(self._store())

    def lead_funnel(self) -> list[FunnelStep]:
        """The lead funnel."""
        return lead_funnel(self._store(), self._min_lead_score)

    def negative_share_by_day(self, days: int) -> list[DayShare]:
        """The negative share of the last ``days`` days."""
        return negative_share_by_day(self._store(), days)

    def daily_activity(self, days: int) -> list[DayActivity]:
        """The followers' activity of the last ``days`` days."""
        return daily_activity(self._store(), days)


def store_dashboard(settings: Settings, store: StoreFactory) -> StoreDashboard:
    """The production source: the store, the declared campaigns and segments."""
    return StoreDashboard(
        store,
        campaign_reports=lambda s: _campaign_reports(settings, s),
        segment_sizes=lambda s: _segment_sizes(settings, s),
        min_lead_score=settings.sales_webhook_min_score,
    )


def _campaign_reports(
    settings: Settings, store: MarketingStore
) -> list[CampaignReport]:
    campaigns = load_campaigns(settings.campaigns_path)
    window = timedelta(hours=settings.attribution_window_hours)
    return campaign_reports(
        store, campaigns, store.now(), window, currency=settings.currency
    )


def _segment_sizes(settings: Settings, store: MarketingStore) -> dict[str, int]:
    now = store.now()
    profiles = build_profiles(store, now)
    return {
        name: len(members(profiles, segment, now))
        for name, segment in load_segments(settings.segments_path).items()
    }
