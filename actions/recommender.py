"""The recommendation query, its business rules and a plain content ranking.

Pure, no Rasa imports. :class:`Query`, :func:`eligible` (in stock, within budget,
in the category) and :func:`matched_tags` are shared with the live recommender
(:mod:`actions.hybrid_recommender`), which adds history, free-text similarity,
promotions, mood and collaborative signals on top; :func:`recommend` is the
plain rating-sales-needs ranking kept as a simple, dependency-free reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from actions.catalog import Product

# Weight of one matched need (tag) against popularity in the score.
TAG_MATCH_WEIGHT = 2.0
DEFAULT_TOP_K = 3


@dataclass(frozen=True)
class Query:
    """What the customer asked for.

    Attributes:
        category: Canonical category, or ``None`` for any.
        budget: Maximum price in CNY, or ``None`` for no limit.
        text: The customer's words, matched against product tags.
    """

    category: str | None = None
    budget: float | None = None
    text: str = ""


def matched_tags(product: Product, text: str) -> list[str]:
    """The product's tags that the customer's text mentions."""
    return [tag for tag in product.tags if tag and tag in text]


def score(product: Product, query: Query) -> float:
    """Higher is better: rating, log-damped sales and matched needs."""
    popularity = product.rating * math.log1p(max(product.sales, 0))
    return popularity + TAG_MATCH_WEIGHT * len(matched_tags(product, query.text))


def eligible(product: Product, query: Query) -> bool:
    """Business rules every recommendation obeys."""
    return (
        product.stock > 0
        and (query.category is None or product.category == query.category)
        and (query.budget is None or product.price <= query.budget)
    )


def recommend(
    products: Iterable[Product], query: Query, k: int = DEFAULT_TOP_K
) -> list[Product]:
    """The best ``k`` eligible products for the query, best first."""
    ranked = sorted(
        (p for p in products if eligible(p, query)),
        key=lambda p: (-score(p, query), p.price, p.id),
    )
    return ranked[:k]


def closest_over_budget(products: Sequence[Product], query: Query) -> Product | None:
    """The cheapest in-stock product of the category, when nothing fits the budget."""
    relaxed = Query(category=query.category, budget=None, text=query.text)
    candidates = [p for p in products if eligible(p, relaxed)]
    return min(candidates, key=lambda p: (p.price, p.id)) if candidates else None
