"""The live recommender: business rules, then content, history, popularity and CF.

Pure (no Rasa imports). Hard rules first: in stock, in the asked category,
within budget. Candidates are then ranked by :func:`recommender.blend.blend` of

* ``popularity``: rating x log-damped monthly sales (the catalog's own data);
* ``tags``: the customer's stated needs found in the product tags;
* ``text``: TF-IDF similarity (character n-grams) of the message to the product's
  name, tags, features and description;
* ``history``: the customer's logged clicks and purchases (categories they came
  back to rank up; items shown often without a click rank down; items bought
  are left out while anything else fits);
* ``collaborative``: items similar, in other customers' implicit feedback, to
  what this customer clicked or bought, the latest weighing most (each earlier
  click or purchase counts ``RECENCY_DECAY`` times less; ``implicit`` ALS, else
  item-kNN), once the store holds ``min_interactions`` events: cold start uses
  the rest;
* ``promotion``: a live promotion covers the item, never for opted-out customers.

An unhappy customer gets no ranking at all: :attr:`Recommendation.recovery` tells
the action to offer service recovery instead of an upsell.

Popularity, history and collaborative come from :mod:`recommender.signals`, which
``benchmarks/recsys_bench.py`` runs on MovieLens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import numpy as np

from catalog.model import Product
from recommender.blend import Scores, blend
from recommender.collaborative import build_interactions, fit_item_similarity
from recommender.query import DEFAULT_TOP_K, Query, eligible, matched_tags
from recommender.signals import (
    RECENCY_DECAY,
    behaviour_signals,
    engagement,
    popularity,
    recency_weights,
)

# Signal weights (signals are z-scored over the candidates before weighting).
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "popularity": 1.0,
    "tags": 1.5,
    "text": 0.5,
    "history": 0.5,
    # Evidence from this customer's own feedback outweighs plain popularity.
    "collaborative": 1.5,
    "promotion": 0.75,
}
# Implicit-feedback weight of each logged event (a purchase says more).
EVENT_WEIGHTS: Mapping[str, float] = {"click": 1.0, "purchase": 3.0}
# An item shown this often without a click is ranked down a notch per showing.
FATIGUE_PER_IMPRESSION = 0.2
CONTENT_STRATEGY = "content"
HYBRID_STRATEGY = "hybrid"


@dataclass(frozen=True)
class Profile:
    """What the bot knows about the customer.

    Attributes:
        clicked: Item ids the customer clicked or asked about, oldest first.
        purchased: Item ids bought (or asked to buy).
        shown: Item ids recommended to them before.
        opted_out: Unsubscribed from marketing: no promotional boost or badge.
        sentiment: ``positive``, ``neutral``, ``negative`` or ``None``.
        promoted: Ids of items a live promotion covers today.
        clicked_at: When each click in ``clicked`` happened (naive means UTC).
        purchased_at: When each purchase in ``purchased`` happened. With both
            given, recent clicks and purchases weigh more in the collaborative
            signal; without, every one weighs the same.

    Raises:
        ValueError: Times given, but not one for each click and purchase.
    """

    clicked: tuple[str, ...] = ()
    purchased: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()
    opted_out: bool = False
    sentiment: str | None = None
    promoted: frozenset[str] = field(default_factory=frozenset)
    clicked_at: tuple[datetime, ...] = ()
    purchased_at: tuple[datetime, ...] = ()

    def __post_init__(self) -> None:
        if self.timed and (
            len(self.clicked_at) != len(self.clicked)
            or len(self.purchased_at) != len(self.purchased)
        ):
            raise ValueError(
                f"{len(self.clicked_at)} click times for {len(self.clicked)} clicks, "
                f"{len(self.purchased_at)} purchase times for "
                f"{len(self.purchased)} purchases"
            )

    @property
    def timed(self) -> bool:
        """Whether the clicks and purchases carry their times."""
        return bool(self.clicked_at or self.purchased_at)


@dataclass(frozen=True)
class Recommendation:
    """The ranked picks and how they came about.

    Attributes:
        products: Best first.
        strategy: ``hybrid`` (collaborative signal used) or ``content``.
        relaxed: Nothing met every rule; these are the closest alternatives.
        recovery: The customer is unhappy: offer service recovery, not products.
    """

    products: tuple[Product, ...] = ()
    strategy: str = CONTENT_STRATEGY
    relaxed: bool = False
    recovery: bool = False


class Recommender(Protocol):
    """Anything that recommends catalog products (the actions' seam)."""

    def recommend(
        self, query: Query, profile: Profile, k: int = DEFAULT_TOP_K
    ) -> Recommendation:
        """The top ``k`` products for the customer's query and profile."""


def _seconds(moment: datetime) -> float:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.timestamp()


def _document(product: Product) -> str:
    return " ".join(
        (product.name, product.category, *product.tags, *product.features)
    ) + (" " + product.description)


class HybridRecommender:
    """Ranks the catalog for one customer.

    Args:
        products: The catalog's products.
        feedback: ``(user, item id, event)`` of every customer: the store's clicks
            and purchases, for the collaborative signal.
        weights: Signal weights (``DEFAULT_WEIGHTS``).
        min_interactions: Feedback events needed before CF joins the ranking.
        recency_decay: How much less each earlier click or purchase weighs in
            the collaborative signal (1.0: no recency).
    """

    def __init__(
        self,
        products: Sequence[Product],
        feedback: Sequence[tuple[str, str, str]] = (),
        weights: Mapping[str, float] = DEFAULT_WEIGHTS,
        min_interactions: int = 50,
        recency_decay: float = RECENCY_DECAY,
    ) -> None:
        self.products = tuple(products)
        self.weights = dict(weights)
        self.recency_decay = recency_decay
        self._index = {p.id: i for i, p in enumerate(self.products)}
        self._popularity = popularity(
            [p.rating for p in self.products], [p.sales for p in self.products]
        )
        # The products' categories (the catalog holds the list), in first-seen order.
        categories = list(dict.fromkeys(p.category for p in self.products))
        self._membership = np.array(
            [[float(p.category == c) for c in categories] for p in self.products]
        ).reshape(len(self.products), len(categories))
        self._similarity = self._collaborative(feedback, min_interactions)
        self._vectorizer: Any = None
        self._documents: Any = None

    def _collaborative(
        self, feedback: Sequence[tuple[str, str, str]], min_interactions: int
    ) -> Scores | None:
        triples = [
            (user, item, EVENT_WEIGHTS.get(event, 0.0))
            for user, item, event in feedback
            if item in self._index and event in EVENT_WEIGHTS
        ]
        if len(triples) < min_interactions:
            return None
        ids = [p.id for p in self.products]
        return fit_item_similarity(build_interactions(triples, ids).matrix)

    @property
    def has_collaborative(self) -> bool:
        """Whether enough feedback exists for the collaborative signal."""
        return self._similarity is not None

    def _text_scores(self, text: str) -> Scores:
        if not text.strip():
            return np.zeros(len(self.products))
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2))
            documents = [_document(p) for p in self.products]
            self._documents = self._vectorizer.fit_transform(documents)
        query = self._vectorizer.transform([text])
        return np.asarray((self._documents @ query.T).todense()).ravel()

    def _fatigue(self, profile: Profile) -> Scores:
        shown = Counter(profile.shown)
        clicked = set(profile.clicked)
        return np.array(
            [
                0.0 if p.id in clicked else FATIGUE_PER_IMPRESSION * shown[p.id]
                for p in self.products
            ]
        )

    def engagements(self, profile: Profile) -> tuple[Scores, Scores]:
        """The customer's clicks and purchases per item: each 1, and by recency."""
        items = (*profile.clicked, *profile.purchased)
        times = (*profile.clicked_at, *profile.purchased_at)
        known = [n for n, item in enumerate(items) if item in self._index]
        rows = [self._index[items[n]] for n in known]
        engaged = engagement(len(self.products), rows)
        if not profile.timed:
            return engaged, engaged
        moments = [_seconds(times[n]) for n in known]
        weights = recency_weights(moments, self.recency_decay)
        return engaged, engagement(len(self.products), rows, weights)

    def signals(self, query: Query, profile: Profile) -> dict[str, Scores]:
        """Every signal's raw scores over the whole catalog."""
        engaged, recent = self.engagements(profile)
        signals = behaviour_signals(
            self._popularity,
            self._membership,
            engaged,
            recent,
            self._similarity,
            self._fatigue(profile),
        )
        signals["tags"] = np.array(
            [float(len(matched_tags(p, query.text))) for p in self.products]
        )
        signals["text"] = self._text_scores(query.text)
        if not profile.opted_out:
            signals["promotion"] = np.array(
                [float(p.id in profile.promoted) for p in self.products]
            )
        return signals

    def recommend(
        self, query: Query, profile: Profile, k: int = DEFAULT_TOP_K
    ) -> Recommendation:
        """The top ``k`` eligible products, a relaxed suggestion, or recovery."""
        if profile.sentiment == "negative":
            return Recommendation(recovery=True)
        candidates = np.array([eligible(p, query) for p in self.products])
        bought = np.array([p.id in profile.purchased for p in self.products])
        if (candidates & ~bought).any():
            # Bought already: suggest something else while anything else fits.
            candidates &= ~bought
        relaxed = not candidates.any()
        if relaxed:
            # Honest alternative: the same category without the budget.
            loose = Query(category=query.category, budget=None, text=query.text)
            candidates = np.array([eligible(p, loose) for p in self.products])
            if not candidates.any():
                return Recommendation(relaxed=True)
            cheapest = min(
                (p for p, ok in zip(self.products, candidates, strict=True) if ok),
                key=lambda p: (p.price, p.id),
            )
            return Recommendation((cheapest,), CONTENT_STRATEGY, relaxed=True)
        signals = self.signals(query, profile)
        scores = blend(signals, self.weights, candidates)
        order = sorted(
            np.flatnonzero(candidates),
            key=lambda i: (-scores[i], self.products[i].price, self.products[i].id),
        )
        picks = tuple(self.products[i] for i in order[:k])
        strategy = HYBRID_STRATEGY if "collaborative" in signals else CONTENT_STRATEGY
        return Recommendation(picks, strategy)
