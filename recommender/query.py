"""The recommendation query and the business rules every recommendation obeys.

:class:`Query`, :func:`eligible` (in stock, within budget, in the category) and
:func:`matched_tags` are what :mod:`recommender.hybrid` ranks with.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.model import Product

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


def eligible(product: Product, query: Query) -> bool:
    """Business rules every recommendation obeys."""
    return (
        product.stock > 0
        and (query.category is None or product.category == query.category)
        and (query.budget is None or product.price <= query.budget)
    )
