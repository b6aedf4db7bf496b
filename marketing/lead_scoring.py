"""How promising a lead is, from what the conversation showed (pure, 0..1).

A transparent points table sales staff can read: intent to buy and engagement
score up, an unhappy mood down. Sorting the leads table by score puts the
warmest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

POINTS: Mapping[str, float] = {
    "base": 0.2,  # left a name and a valid number
    "campaign": 0.15,  # signed up through a campaign
    "product": 0.15,  # asked about a specific product
    "budget": 0.1,  # told us a budget
    "per_click": 0.05,  # followed up on a recommendation (capped)
    "purchase": 0.2,  # asked to buy
    "positive": 0.1,
    "negative": -0.15,
}
MAX_CLICK_POINTS = 0.15


@dataclass(frozen=True)
class LeadSignals:
    """What the conversation told us about the customer."""

    campaign: bool = False
    product: bool = False
    budget: bool = False
    clicks: int = 0
    purchase_intent: bool = False
    sentiment: str | None = None


def lead_score(signals: LeadSignals) -> float:
    """The lead's score in [0, 1], rounded to two decimals."""
    score = POINTS["base"]
    score += POINTS["campaign"] if signals.campaign else 0.0
    score += POINTS["product"] if signals.product else 0.0
    score += POINTS["budget"] if signals.budget else 0.0
    score += min(POINTS["per_click"] * max(signals.clicks, 0), MAX_CLICK_POINTS)
    score += POINTS["purchase"] if signals.purchase_intent else 0.0
    score += POINTS.get(signals.sentiment or "", 0.0)
    return round(min(max(score, 0.0), 1.0), 2)
