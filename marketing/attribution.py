"""Which campaign and variant an order is owed to: the last tracked click.

An order counts for the customer's last tracked click (an ``interactions`` row
with event ``click``, carrying the campaign and variant of the impression it
followed) at most ``attribution_window_hours`` before the order, the click's time
included up to the order's. A click after the order, or none in the window,
leaves the order unattributed: it is revenue, but no campaign's. Last click, not
the impression the shop named, because that is what the marketer acted on last.

:func:`attribute` is pure (rows in, attributions out); :func:`attributed_orders`
reads the rows it needs from the store. No Rasa.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from marketing.orders import Order, orders_between
from marketing.store import CLICK, MarketingStore

# Up to this many customers, clicks are read for theirs only; beyond it a list of
# ids would strain the driver's parameter limit, and all clicks in the time range
# cost less than it.
MAX_USER_FILTER = 500


@dataclass(frozen=True)
class Click:
    """One tracked click of a customer, with the impression's campaign and variant."""

    user_id: str
    campaign: str | None
    variant: str
    created_at: datetime
    tracking_id: str | None = None


@dataclass(frozen=True)
class Attribution:
    """An order and the click it is owed to (None: unattributed)."""

    order: Order
    click: Click | None

    @property
    def campaign(self) -> str | None:
        """The campaign of the click (None: unattributed or a recommendation)."""
        return self.click.campaign if self.click else None

    @property
    def variant(self) -> str | None:
        """The variant of the click (None: unattributed)."""
        return self.click.variant if self.click else None


def attribute(
    orders: Iterable[Order], clicks: Iterable[Click], window: timedelta
) -> list[Attribution]:
    """Each order with the customer's last click in ``window`` before it.

    Args:
        orders: The orders to attribute.
        clicks: The customers' clicks, in any order.
        window: How long before an order a click still counts (positive).

    Returns:
        One attribution per order, in the orders' order.
    """
    by_user: dict[str, list[Click]] = defaultdict(list)
    for click in clicks:
        by_user[click.user_id].append(click)
    times: dict[str, list[datetime]] = {}
    for user, theirs in by_user.items():
        theirs.sort(key=lambda c: c.created_at)
        times[user] = [c.created_at for c in theirs]
    attributions = []
    for order in orders:
        found = None
        user_times = times.get(order.user_id, [])
        # The last click at or before the order; a later one cannot have caused it.
        last = bisect.bisect_right(user_times, order.created_at) - 1
        if last >= 0 and order.created_at - user_times[last] <= window:
            found = by_user[order.user_id][last]
        attributions.append(Attribution(order, found))
    return attributions


def clicks_between(
    store: MarketingStore,
    since: datetime | None,
    until: datetime,
    users: Sequence[str] | None = None,
) -> list[Click]:
    """Tracked clicks logged in ``[since, until]``, optionally of some users."""
    table = store.table("interactions")
    query = select(
        table.c.user_id,
        table.c.campaign,
        table.c.variant,
        table.c.created_at,
        table.c.tracking_id,
    ).where(table.c.event == CLICK, table.c.created_at <= until)
    if since is not None:
        query = query.where(table.c.created_at >= since)
    if users is not None:
        query = query.where(table.c.user_id.in_(list(users)))
    with store.engine.connect() as connection:
        rows = connection.execute(query.order_by(table.c.created_at, table.c.id))
        return [Click(r[0], r[1], str(r[2]), r[3], r[4]) for r in rows]


def attributed_orders(
    store: MarketingStore,
    since: datetime | None,
    until: datetime,
    window: timedelta,
) -> list[Attribution]:
    """The orders of ``[since, until]``, each with the click it is owed to.

    Args:
        store: The marketing store.
        since: The first order time counted (None: from the start).
        until: The last order time counted.
        window: The attribution window (``Settings.attribution_window_hours``).
    """
    orders = orders_between(store, since, until)
    if not orders:
        return []
    first = orders[0].created_at - window
    users = {o.user_id for o in orders}
    only = sorted(users) if len(users) <= MAX_USER_FILTER else None
    clicks = clicks_between(store, first, until, only)
    return attribute(orders, clicks, window)
