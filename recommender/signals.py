"""The behaviour signals of the live recommender, over item indices.

:class:`recommender.hybrid.HybridRecommender` ranks with these for one customer
(1-D arrays over the catalog); ``benchmarks/recsys_bench.py`` calls the same
functions for every MovieLens user at once (users x items), so the benchmark
measures the live scoring, not a copy of it. Pure numpy.

* ``popularity``: rating x log-damped sales;
* ``history``: the share of the customer's clicks and purchases in each item's
  categories, less a fatigue penalty for items shown without a click;
* ``collaborative``: the customer's engagements, recent ones weighing more
  (:func:`recency_weights`), times an item-item similarity learnt from every
  customer's feedback.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from recommender.blend import Scores

# An engagement weighs this much less per engagement of the customer after it, in
# the collaborative signal: 1, 0.8, 0.64, ... from the latest back. The best of
# 1.0/0.9/0.8/0.7/0.5 on MovieLens validation items (BENCHMARKS.md).
RECENCY_DECAY = 0.8

Values = Sequence[float] | Scores


def popularity(rating: Values, sales: Values) -> Scores:
    """Rating x ``log1p(sales)`` of each item (negative sales count as 0)."""
    stars = np.asarray(rating, dtype=np.float64)
    sold = np.maximum(np.asarray(sales, dtype=np.float64), 0.0)
    return np.asarray(stars * np.log1p(sold), dtype=np.float64)


def recency_weights(times: Values, decay: float = RECENCY_DECAY) -> Scores:
    """The weight of each engagement: ``decay ** n``, ``n`` engagements after it.

    Args:
        times: When each engagement happened (any unit, any order); equal times
            keep the order given, a later position counting as more recent.
        decay: 1.0 weighs every engagement alike (no recency).

    Returns:
        One weight per engagement, in the order of ``times``; the latest is 1.
    """
    order = np.argsort(np.asarray(times, dtype=np.float64), kind="stable")
    later = np.empty(len(order), dtype=np.float64)
    later[order] = np.arange(len(order) - 1, -1, -1, dtype=np.float64)
    return np.asarray(decay**later, dtype=np.float64)


def engagement(
    items: int,
    engaged: Sequence[int] | npt.NDArray[np.int64],
    weights: Values | None = None,
) -> Scores:
    """The per-item sum of a customer's engagements (each 1, or its weight).

    Args:
        items: How many items there are.
        engaged: Item index of each engagement; repeats add up.
        weights: Weight of each engagement (:func:`recency_weights`), else 1.
    """
    vector = np.zeros(items, dtype=np.float64)
    indices = np.asarray(engaged, dtype=np.int64)
    values = np.ones(len(indices)) if weights is None else np.asarray(weights)
    np.add.at(vector, indices, values)
    return vector


def category_share(engaged: Scores, membership: Scores) -> Scores:
    """Per item, the share of the customer's engagements in the item's categories.

    Args:
        engaged: Engagements per item (:func:`engagement`), one row per customer.
        membership: Items x categories, 1 where the item belongs (a product has
            one category, a film several genres).
    """
    totals = np.sum(engaged, axis=-1, keepdims=True)
    per_category = (engaged @ membership) / np.where(totals > 0, totals, 1.0)
    return np.asarray(per_category @ membership.T, dtype=np.float64)


def behaviour_signals(
    item_popularity: Scores,
    membership: Scores,
    engaged: Scores,
    recent: Scores,
    similarity: Scores | None,
    fatigue: Scores | None = None,
) -> dict[str, Scores]:
    """The ``popularity``, ``history`` and ``collaborative`` signals.

    Args:
        item_popularity: :func:`popularity` of each item.
        membership: Items x categories (:func:`category_share`).
        engaged: Clicks and purchases per item (each counts 1).
        recent: The same engagements weighted by :func:`recency_weights`.
        similarity: Items x items from every customer's feedback, or ``None``
            before there is enough (then no collaborative signal).
        fatigue: Penalty per item (shown often without a click), if any.

    Returns:
        Name -> scores, shaped like ``engaged`` (one customer or one row each).
    """
    history = category_share(engaged, membership)
    if fatigue is not None:
        history = history - fatigue
    signals = {
        "popularity": np.broadcast_to(item_popularity, np.shape(engaged)).copy(),
        "history": history,
    }
    if similarity is not None and recent.any():
        signals["collaborative"] = np.asarray(recent @ similarity, dtype=np.float64)
    return signals
