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
  what this customer clicked or bought (``implicit`` ALS, else item-kNN), once
  the store holds ``min_interactions`` events: cold start uses the rest;
* ``promotion``: a live promotion covers the item, never for opted-out customers.

An unhappy customer gets no ranking at all: :attr:`Recommendation.recovery` tells
the action to offer service recovery instead of an upsell.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from catalog.model import Product
from recommender.blend import Scores, blend
from recommender.collaborative import (
    FactorModel,
    ItemKnn,
    build_interactions,
    implicit_available,
)
from recommender.query import DEFAULT_TOP_K, Query, eligible, matched_tags

logger = logging.getLogger(__name__)

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
    """

    clicked: tuple[str, ...] = ()
    purchased: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()
    opted_out: bool = False
    sentiment: str | None = None
    promoted: frozenset[str] = field(default_factory=frozenset)


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
    """

    def __init__(
        self,
        products: Sequence[Product],
        feedback: Sequence[tuple[str, str, str]] = (),
        weights: Mapping[str, float] = DEFAULT_WEIGHTS,
        min_interactions: int = 50,
    ) -> None:
        self.products = tuple(products)
        self.weights = dict(weights)
        self._index = {p.id: i for i, p in enumerate(self.products)}
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
        matrix = build_interactions(triples, ids).matrix
        try:
            if implicit_available():
                factors = max(2, min(32, len(ids) // 2))
                model = FactorModel("als", factors=factors)
                model.fit(matrix)
                return model.item_similarity()
        except Exception:  # a broken native library must not break recommendations
            logger.exception("implicit ALS failed; using item-kNN instead.")
        knn = ItemKnn(neighbours=20)
        knn.fit(matrix)
        return knn.item_similarity()

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

    def _history_scores(self, profile: Profile) -> Scores:
        engaged = [*profile.clicked, *profile.purchased]
        categories = Counter(
            self.products[self._index[i]].category for i in engaged if i in self._index
        )
        total = sum(categories.values()) or 1
        shown = Counter(profile.shown)
        clicked = set(profile.clicked)
        scores = np.zeros(len(self.products))
        for row, product in enumerate(self.products):
            scores[row] = categories[product.category] / total
            if product.id not in clicked:
                scores[row] -= FATIGUE_PER_IMPRESSION * shown[product.id]
        return scores

    def signals(self, query: Query, profile: Profile) -> dict[str, Scores]:
        """Every signal's raw scores over the whole catalog."""
        signals = {
            "popularity": np.array(
                [p.rating * math.log1p(max(p.sales, 0)) for p in self.products]
            ),
            "tags": np.array(
                [float(len(matched_tags(p, query.text))) for p in self.products]
            ),
            "text": self._text_scores(query.text),
            "history": self._history_scores(profile),
        }
        if not profile.opted_out:
            signals["promotion"] = np.array(
                [float(p.id in profile.promoted) for p in self.products]
            )
        history = np.zeros(len(self.products))
        for item in (*profile.clicked, *profile.purchased):
            if item in self._index:
                history[self._index[item]] += 1.0
        if self._similarity is not None and history.any():
            signals["collaborative"] = history @ self._similarity
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
