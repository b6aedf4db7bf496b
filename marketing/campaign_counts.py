"""What the store counted per campaign and variant, in total and per day.

Sends (``campaign_sends`` rows with status ``sent``), impressions, clicks and the
orders attributed to the last tracked click (:mod:`marketing.attribution`),
grouped by the impression's campaign and variant. The counting is done by the
database (grouped queries); orders come back as rows, their currencies and
buyers being the report's business (:mod:`marketing.report`). No Rasa.

A click counts once per impression (distinct tracking ids), however often the
link was followed, so that click-through is a proportion of impressions.
Impressions without a campaign (recommendations) are grouped under
:data:`NO_CAMPAIGN`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.sql import Select

from marketing.attribution import attributed_orders
from marketing.orders import Order
from marketing.store import CLICK, IMPRESSION, MarketingStore

# The campaign of impressions logged without one (recommendations in a chat).
NO_CAMPAIGN = "(recommendations)"
SENT = "sent"
# (campaign, variant)
Key = tuple[str, str]


@dataclass
class Tally:
    """Counts of one variant, overall or on one day."""

    sent: int = 0
    impressions: int = 0
    clicks: int = 0
    orders: list[Order] = field(default_factory=list)


@dataclass(frozen=True)
class CampaignCounts:
    """Tallies per (campaign, variant), and per (campaign, variant, day)."""

    variants: dict[Key, Tally]
    days: dict[tuple[str, str, date], Tally]

    def campaigns(self) -> list[str]:
        """The campaigns with any count, sorted."""
        return sorted({campaign for campaign, _ in self.variants})

    def variants_of(self, campaign: str) -> list[str]:
        """The variants of ``campaign`` with any count, sorted."""
        return sorted(v for c, v in self.variants if c == campaign)


def count_campaigns(
    store: MarketingStore,
    since: datetime | None,
    until: datetime,
    window: timedelta,
) -> CampaignCounts:
    """Counts sends, impressions, clicks and attributed orders in ``[since, until]``.

    Args:
        store: The marketing store.
        since: The first moment counted (None: from the start).
        until: The last moment counted (UTC, naive).
        window: The attribution window of orders.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: The database failed.
    """
    variants: dict[Key, Tally] = defaultdict(Tally)
    days: dict[tuple[str, str, date], Tally] = defaultdict(Tally)
    for (campaign, variant), count in _sends(store, since, until).items():
        variants[campaign, variant].sent = count
    for campaign, variant, day, count in _events(store, IMPRESSION, since, until):
        variants[campaign, variant].impressions += count
        days[campaign, variant, day].impressions = count
    for campaign, variant, day, count in _events(store, CLICK, since, until):
        days[campaign, variant, day].clicks = count
    for (campaign, variant), count in _clicks(store, since, until).items():
        variants[campaign, variant].clicks = count
    for attribution in attributed_orders(store, since, until, window):
        if attribution.click is None:
            continue  # revenue, but no campaign's
        key = (attribution.click.campaign or NO_CAMPAIGN, attribution.click.variant)
        variants[key].orders.append(attribution.order)
        day = attribution.order.created_at.date()
        days[key[0], key[1], day].orders.append(attribution.order)
    return CampaignCounts(dict(variants), dict(days))


def _between(
    query: Select, column: Any, since: datetime | None, until: datetime
) -> Select:
    query = query.where(column <= until)
    return query if since is None else query.where(column >= since)


def _sends(
    store: MarketingStore, since: datetime | None, until: datetime
) -> dict[Key, int]:
    table = store.table("campaign_sends")
    query = select(table.c.campaign, table.c.variant, func.count()).where(
        table.c.status == SENT
    )
    # A send is dated by its last update: when it went out.
    query = _between(query, table.c.updated_at, since, until)
    query = query.group_by(table.c.campaign, table.c.variant)
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}


def _clicks(
    store: MarketingStore, since: datetime | None, until: datetime
) -> dict[Key, int]:
    table = store.table("interactions")
    query = select(
        table.c.campaign, table.c.variant, func.count(distinct(table.c.tracking_id))
    ).where(table.c.event == CLICK)
    query = _between(query, table.c.created_at, since, until)
    query = query.group_by(table.c.campaign, table.c.variant)
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return {(r[0] or NO_CAMPAIGN, str(r[1])): int(r[2]) for r in rows}


def _events(
    store: MarketingStore, event: str, since: datetime | None, until: datetime
) -> list[tuple[str, str, date, int]]:
    """Impressions (or clicked impressions) per campaign, variant and day."""
    table = store.table("interactions")
    # DATE() is both SQLite's and PostgreSQL's (a string in one, a date in the other).
    day = func.date(table.c.created_at)
    counted = (
        func.count()
        if event == IMPRESSION
        else func.count(distinct(table.c.tracking_id))
    )
    query = select(table.c.campaign, table.c.variant, day, counted).where(
        table.c.event == event
    )
    query = _between(query, table.c.created_at, since, until)
    query = query.group_by(table.c.campaign, table.c.variant, day)
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [(r[0] or NO_CAMPAIGN, str(r[1]), _day(r[2]), int(r[3])) for r in rows]


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
