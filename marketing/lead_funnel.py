"""The lead funnel: how many followers went how far towards buying.

Five steps, each counting the followers of the step before who also did this:

1. ``seen``: followers we logged anything of (activity or interactions);
2. ``wrote``: who wrote the bot a message;
3. ``lead``: who left a lead and agreed to be called back;
4. ``qualified``: whose lead scored at least the sales threshold;
5. ``bought``: who placed an order.

Nested, so every step is at most the one before and the ratios read as
conversion from step to step. Counted over all the store holds (retention bounds
it, :mod:`tools.personal_data`). No Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.sql import Select

from marketing.store import MarketingStore

SEEN, WROTE, LEAD, QUALIFIED, BOUGHT = "seen", "wrote", "lead", "qualified", "bought"


@dataclass(frozen=True)
class FunnelStep:
    """One step of the funnel: its key, what it means, and how many reached it."""

    step: str
    label: str
    count: int


def lead_funnel(store: MarketingStore, min_score: float) -> list[FunnelStep]:
    """The funnel of the followers in ``store``.

    Args:
        store: The marketing store.
        min_score: The lead score a lead needs to be ``qualified`` (the sales
            webhook's threshold, ``sales_webhook_min_score``).
    """
    activity = store.table("activity")
    interactions = store.table("interactions")
    leads = store.table("leads")
    orders = store.table("orders")
    steps: list[tuple[str, str, list[Select]]] = [
        (
            SEEN,
            "followers seen",
            [
                select(activity.c.user_id),
                select(interactions.c.user_id),
            ],
        ),
        (
            WROTE,
            "wrote a message",
            [select(activity.c.user_id).where(activity.c.kind == "message")],
        ),
        (
            LEAD,
            "left a lead with consent",
            [select(leads.c.user_id).where(leads.c.consent.is_(True))],
        ),
        (
            QUALIFIED,
            f"lead score ≥ {min_score:g}",
            [
                select(leads.c.user_id).where(
                    leads.c.consent.is_(True), leads.c.score >= min_score
                )
            ],
        ),
        (BOUGHT, "bought", [select(orders.c.user_id)]),
    ]
    funnel = []
    reached: set[str] | None = None
    with store.engine.connect() as connection:
        for step, label, queries in steps:
            users: set[str] = set()
            for query in queries:
                users |= set(connection.execute(query.distinct()).scalars())
            # Followers past the earlier steps only: a funnel narrows.
            reached = users if reached is None else reached & users
            funnel.append(FunnelStep(step, label, len(reached)))
    return funnel
