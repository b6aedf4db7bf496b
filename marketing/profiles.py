"""A profile per follower, built from what the store logged about them.

The QR scene they subscribed through, the intents and product categories they
asked about, clicks and purchases, their best lead score, the mood of their
latest messages, when they last wrote (WeChat's 48-hour window), and whether
they opted out of or consented to promotions. Segments (:mod:`marketing.segments`)
are rules over profiles; campaign sends (:mod:`marketing.sending`) read the
window, consent and opt-out from them. :func:`build_profiles` computes them
for every follower with a dozen grouped queries. No Rasa.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, Table, and_, case, func, select
from sqlalchemy.engine import Row
from sqlalchemy.sql import Select

from marketing.activity import SCAN, SUBSCRIBE, UNSUBSCRIBE
from marketing.store import CLICK, PURCHASE, MarketingStore
from marketing.suppression import user_digest


@dataclass(frozen=True)
class Profile:
    """What we know of one follower (by openid), as of when it was built."""

    user_id: str
    # The QR scene of their (first) subscribe, when they came through one.
    scene: str | None = None
    # Intents of their messages, and the product categories they named.
    intents: frozenset[str] = field(default_factory=frozenset)
    categories: frozenset[str] = field(default_factory=frozenset)
    clicks: int = 0
    purchases: int = 0
    revenue: Decimal = Decimal(0)
    # Their best lead score (0..1); None without a lead.
    lead_score: float | None = None
    # The sentiment of their latest message (positive | neutral | negative).
    sentiment: str | None = None
    # Their latest message or event: WeChat's 48-hour window counts from it.
    last_active_at: datetime | None = None
    # Subscribed now (a later unsubscribe event turns it off).
    subscribed: bool = True
    opted_out: bool = False
    # Their latest yes to promotions (a lead's marketing consent), not withdrawn.
    marketing_consent: bool = False
    # Catalog campaigns they signed up for (campaign_signups).
    campaigns: frozenset[str] = field(default_factory=frozenset)


# Users per IN (...) list when profiles of given users are built.
USER_CHUNK = 1000
# Sums of amounts read as floats and rounded to cents: SQLite has no decimal
# type (SQLAlchemy warns on every Decimal it would make from a float there).
_CENTS = Numeric(14, 2, asdecimal=False)


@dataclass
class _Facts:
    """A profile being assembled from the queries' rows."""

    follower: bool = False
    scene: str | None = None
    intents: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    clicks: int = 0
    purchases: int = 0
    orders: int = 0
    revenue: Decimal = Decimal(0)
    lead_score: float | None = None
    sentiment: str | None = None
    last_active_at: datetime | None = None
    subscribed: bool = True
    opted_out: bool = False
    marketing_consent: bool = False
    campaigns: set[str] = field(default_factory=set)

    def profile(self, user_id: str) -> Profile:
        return Profile(
            user_id=user_id,
            scene=self.scene,
            intents=frozenset(self.intents),
            categories=frozenset(self.categories),
            clicks=self.clicks,
            # Orders the shop reported; purchase events for shops that predate them.
            purchases=max(self.orders, self.purchases),
            revenue=self.revenue,
            lead_score=self.lead_score,
            sentiment=self.sentiment,
            last_active_at=self.last_active_at,
            subscribed=self.subscribed,
            opted_out=self.opted_out,
            marketing_consent=self.marketing_consent and not self.opted_out,
            campaigns=frozenset(self.campaigns),
        )


def build_profiles(
    store: MarketingStore,
    now: datetime,
    user_ids: Iterable[str] | None = None,
) -> dict[str, Profile]:
    """Every follower's profile as of ``now``, from a dozen grouped queries.

    Followers are the users seen in activity, interactions or leads. Each
    aspect (last activity, intents, sentiment, clicks, orders...) is one query
    grouped by user over its table, not one query per user, and its rows are
    streamed, so 100k followers take seconds.

    Args:
        store: The marketing store.
        now: Rows logged after it are left out (UTC, naive).
        user_ids: Only these users (all followers by default).

    Returns:
        The profiles, by user id.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: The database failed.
    """
    facts: dict[str, _Facts] = {}
    with store.engine.connect() as connection:
        streaming = connection.execution_options(stream_results=True)
        for users in _chunks(user_ids):
            for query, apply in _queries(store, now, users):
                for row in streaming.execute(query):
                    apply(facts.setdefault(str(row[0]), _Facts()), row)
        suppressions = store.table("suppressions")
        erased = {r[0] for r in connection.execute(select(suppressions.c.user_digest))}
    if erased:
        # Erased after opting out: the no survives as a digest.
        for user_id, f in facts.items():
            if user_digest(user_id) in erased:
                f.opted_out = True
    return {
        user_id: f.profile(user_id)
        for user_id, f in sorted(facts.items())
        if f.follower
    }


_Apply = Callable[[_Facts, Row], None]


def _queries(
    store: MarketingStore, now: datetime, users: list[str] | None
) -> Iterator[tuple[Select, _Apply]]:
    activity, interactions = store.table("activity"), store.table("interactions")
    leads, orders = store.table("leads"), store.table("orders")

    def scoped(table: Table, *conditions: Any) -> Any:
        where = [table.c.created_at <= now, *conditions]
        if users is not None:
            where.append(table.c.user_id.in_(users))
        return and_(*where)

    active_at = case((activity.c.kind != UNSUBSCRIBE, activity.c.created_at))
    yield (
        select(activity.c.user_id, func.max(active_at))
        .where(scoped(activity))
        .group_by(activity.c.user_id),
        _set_active,
    )
    for column, apply in (("intent", _add_intent), ("category", _add_category)):
        c = activity.c[column]
        query = select(activity.c.user_id, c).where(scoped(activity, c.isnot(None)))
        yield query.distinct(), apply
    with_sentiment = scoped(activity, activity.c.sentiment.isnot(None))
    yield _first(activity, "sentiment", with_sentiment), _set_sentiment
    kinds = scoped(activity, activity.c.kind.in_([SUBSCRIBE, UNSUBSCRIBE]))
    yield _first(activity, "kind", kinds), _set_subscribed
    # The first subscribe's QR scene; a scan's for followers from before the log.
    with_scene = scoped(
        activity, activity.c.kind.in_([SUBSCRIBE, SCAN]), activity.c.scene.isnot(None)
    )
    first = case((activity.c.kind == SUBSCRIBE, 0), else_=1)
    order = (first, activity.c.created_at, activity.c.id)
    yield _first(activity, "scene", with_scene, *order), _set_scene
    yield (
        select(interactions.c.user_id, interactions.c.event, func.count())
        .where(scoped(interactions))
        .group_by(interactions.c.user_id, interactions.c.event),
        _add_interactions,
    )
    yield (
        select(orders.c.user_id, func.count(), func.sum(orders.c.amount, type_=_CENTS))
        .where(scoped(orders))
        .group_by(orders.c.user_id),
        _set_orders,
    )
    yield (
        select(leads.c.user_id, func.max(leads.c.score))
        .where(scoped(leads))
        .group_by(leads.c.user_id),
        _set_score,
    )
    yield _first(leads, "marketing_consent", scoped(leads)), _set_consent
    opt_outs, signups = store.table("opt_outs"), store.table("campaign_signups")
    for query, apply in (
        (select(opt_outs.c.user_id), _set_opted_out),
        (select(signups.c.user_id, signups.c.campaign_id), _join),
    ):
        if users is not None:
            query = query.where(query.selected_columns[0].in_(users))
        yield query, apply


def _first(table: Table, column: str, where: Any, *order: Any) -> Select:
    """Per user, ``column`` of the latest row (or the first one by ``order``)."""
    ordering = order or (table.c.created_at.desc(), table.c.id.desc())
    position = func.row_number().over(partition_by=table.c.user_id, order_by=ordering)
    ranked = select(table.c.user_id, table.c[column], position.label("position"))
    ranked_rows = ranked.where(where).subquery()
    return select(ranked_rows.c.user_id, ranked_rows.c[column]).where(
        ranked_rows.c.position == 1
    )


def _chunks(user_ids: Iterable[str] | None) -> Iterator[list[str] | None]:
    if user_ids is None:
        yield None
        return
    wanted = sorted(set(user_ids))
    for start in range(0, len(wanted), USER_CHUNK):
        yield wanted[start : start + USER_CHUNK]


def _set_active(facts: _Facts, row: Row) -> None:
    facts.follower = True
    facts.last_active_at = row[1]


def _add_intent(facts: _Facts, row: Row) -> None:
    facts.intents.add(str(row[1]))


def _add_category(facts: _Facts, row: Row) -> None:
    facts.categories.add(str(row[1]))


def _set_sentiment(facts: _Facts, row: Row) -> None:
    facts.sentiment = str(row[1])


def _set_subscribed(facts: _Facts, row: Row) -> None:
    facts.subscribed = row[1] != UNSUBSCRIBE


def _set_scene(facts: _Facts, row: Row) -> None:
    facts.scene = str(row[1])


def _add_interactions(facts: _Facts, row: Row) -> None:
    facts.follower = True
    if row[1] == CLICK:
        facts.clicks = int(row[2])
    elif row[1] == PURCHASE:
        facts.purchases = int(row[2])


def _set_orders(facts: _Facts, row: Row) -> None:
    facts.orders = int(row[1])
    facts.revenue = Decimal(f"{float(row[2] or 0):.2f}")


def _set_score(facts: _Facts, row: Row) -> None:
    facts.follower = True
    facts.lead_score = float(row[1])


def _set_consent(facts: _Facts, row: Row) -> None:
    facts.marketing_consent = bool(row[1])


def _set_opted_out(facts: _Facts, row: Row) -> None:
    facts.opted_out = True


def _join(facts: _Facts, row: Row) -> None:
    facts.campaigns.add(str(row[1]))
