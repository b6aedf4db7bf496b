"""Collaborative signals from implicit feedback: popularity, item-kNN, ALS and BPR.

Pure numpy/scipy over a users x items matrix of implicit feedback (clicks and
purchases, or ratings read as "watched"). ALS and BPR come from the ``implicit``
library, imported lazily; item-kNN needs nothing else, so the recommender keeps
a collaborative signal where ``implicit`` is missing. Shared by the live
recommender (:mod:`recommender.hybrid`) and the offline benchmark
(``benchmarks/recsys_bench.py``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

logger = logging.getLogger(__name__)

# scipy ships no type information; a users x items CSR matrix.
Matrix: TypeAlias = Any
Scores = npt.NDArray[np.float64]

# Factor models' settings: common defaults, not tuned (see BENCHMARKS.md).
ALS_FACTORS = 64
ALS_REGULARIZATION = 0.05
ALS_ITERATIONS = 15
BPR_FACTORS = 64
BPR_LEARNING_RATE = 0.01
BPR_ITERATIONS = 100
SEED = 42


@dataclass(frozen=True)
class Interactions:
    """Implicit feedback as a sparse matrix with the ids of its rows and columns."""

    matrix: Matrix
    users: tuple[Hashable, ...]
    items: tuple[Hashable, ...]

    def user_row(self, user: Hashable) -> int | None:
        """The matrix row of ``user``, if the user has any feedback."""
        try:
            return self.users.index(user)
        except ValueError:
            return None


def build_interactions(
    triples: Iterable[tuple[Hashable, Hashable, float]],
    items: Sequence[Hashable] = (),
) -> Interactions:
    """Builds the users x items matrix; repeated pairs add up.

    Args:
        triples: ``(user, item, weight)``.
        items: Items to include even without feedback (the catalog), in order.
    """
    item_ids: dict[Hashable, int] = {item: i for i, item in enumerate(items)}
    user_ids: dict[Hashable, int] = {}
    rows, cols, data = [], [], []
    for user, item, weight in triples:
        rows.append(user_ids.setdefault(user, len(user_ids)))
        cols.append(item_ids.setdefault(item, len(item_ids)))
        data.append(float(weight))
    shape = (len(user_ids), len(item_ids))
    matrix = sp.csr_matrix((data, (rows, cols)), shape=shape, dtype=np.float32)
    matrix.sum_duplicates()
    return Interactions(matrix, tuple(user_ids), tuple(item_ids))


class Scorer(Protocol):
    """Scores every item for some users after fitting on implicit feedback."""

    def fit(self, matrix: Matrix) -> None:
        """Learns from a users x items matrix."""

    def scores(self, rows: Matrix) -> Scores:
        """Scores of every item for each row of feedback (users x items)."""


class Popularity:
    """How many users interacted with each item; the same list for everyone."""

    def __init__(self) -> None:
        self._counts: Scores = np.zeros(0)

    def fit(self, matrix: Matrix) -> None:
        """Counts the users of each item."""
        self._counts = np.asarray((matrix > 0).sum(axis=0), dtype=np.float64).ravel()

    def scores(self, rows: Matrix) -> Scores:
        """Item popularity, repeated for each row."""
        return np.tile(self._counts, (rows.shape[0], 1))


class ItemKnn:
    """Item-based cosine neighbourhood over binary feedback.

    Args:
        neighbours: Similar items kept per item (the rest count as 0).
    """

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours
        self._similarity: Matrix = sp.csr_matrix((0, 0))

    def fit(self, matrix: Matrix) -> None:
        """Computes item-item cosine similarities, pruned to the top neighbours."""
        binary = (matrix > 0).astype(np.float64)
        norms = np.sqrt(np.asarray(binary.multiply(binary).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        normalised = binary @ sp.diags(1.0 / norms)
        similarity = (normalised.T @ normalised).toarray()
        np.fill_diagonal(similarity, 0.0)
        if 0 < self.neighbours < similarity.shape[1]:
            cut = np.argpartition(-similarity, self.neighbours, axis=1)
            mask = np.zeros_like(similarity, dtype=bool)
            np.put_along_axis(mask, cut[:, : self.neighbours], True, axis=1)
            similarity = np.where(mask, similarity, 0.0)
        self._similarity = sp.csr_matrix(similarity)

    def item_similarity(self) -> Scores:
        """The pruned cosine similarities (items x items, diagonal 0)."""
        return np.asarray(self._similarity.todense(), dtype=np.float64)

    def scores(self, rows: Matrix) -> Scores:
        """Sum of the similarities of each candidate to the user's items."""
        return self.weighted_scores((rows > 0).astype(np.float64))

    def weighted_scores(self, rows: Matrix) -> Scores:
        """Like :meth:`scores`, each of the user's items counting its own weight.

        Weighting recent interactions higher makes this a "what goes with what
        you just looked at" signal.
        """
        weighted = sp.csr_matrix(rows, dtype=np.float64)
        return np.asarray((weighted @ self._similarity).todense(), dtype=np.float64)


class FactorModel:
    """ALS or BPR from the ``implicit`` library.

    Args:
        kind: ``als`` or ``bpr``.
        factors: Latent dimensions.
        iterations: Training epochs.
        seed: Random seed, for repeatable runs.
        regularization: ALS's L2 weight.
        learning_rate: BPR's SGD step.
    """

    def __init__(
        self,
        kind: str = "als",
        factors: int | None = None,
        iterations: int | None = None,
        seed: int = SEED,
        regularization: float = ALS_REGULARIZATION,
        learning_rate: float = BPR_LEARNING_RATE,
    ) -> None:
        if kind not in ("als", "bpr"):
            raise ValueError(f"kind must be 'als' or 'bpr', got {kind!r}")
        self.kind = kind
        self.factors = factors or (ALS_FACTORS if kind == "als" else BPR_FACTORS)
        default_iterations = ALS_ITERATIONS if kind == "als" else BPR_ITERATIONS
        self.iterations = iterations or default_iterations
        self.seed = seed
        self.regularization = regularization
        self.learning_rate = learning_rate
        self._model: Any = None

    def fit(self, matrix: Matrix) -> None:
        """Trains the model on one thread of BLAS (implicit's own advice)."""
        from threadpoolctl import threadpool_limits

        binary = sp.csr_matrix((matrix > 0).astype(np.float32))
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # implicit warns about BLAS threads even inside threadpool_limits.
            warnings.simplefilter("ignore", RuntimeWarning)
            model = self._new_model()
            model.fit(binary, show_progress=False)
        self._model = model

    def _new_model(self) -> Any:
        if self.kind == "als":
            from implicit.cpu.als import AlternatingLeastSquares

            return AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                iterations=self.iterations,
                random_state=self.seed,
            )
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        # One thread: BPR's parallel SGD is not repeatable otherwise.
        return BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            iterations=self.iterations,
            random_state=self.seed,
            num_threads=1,
        )

    @property
    def item_factors(self) -> Scores:
        """The learnt item vectors (items x factors)."""
        return np.asarray(self._model.item_factors, dtype=np.float64)

    def item_similarity(self) -> Scores:
        """Cosine similarity of the learnt item vectors (items x items, diagonal 0).

        Scores any user, new ones included, as ``history @ similarity`` without
        refitting: what the live recommender uses.
        """
        vectors = self.item_factors
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        unit = vectors / norms
        similarity = unit @ unit.T
        np.fill_diagonal(similarity, 0.0)
        return np.asarray(similarity, dtype=np.float64)

    def scores(self, rows: Matrix) -> Scores:
        """Dot products of the users' vectors with every item.

        ``rows`` is the training matrix (or its first rows): each row's learnt
        vector is used. ALS also folds in any other feedback (``recalculate_user``).
        """
        users = np.arange(rows.shape[0])
        if rows.shape[0] <= self._model.user_factors.shape[0]:
            vectors = np.asarray(self._model.user_factors)[users]
        else:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1, "blas"):
                binary = sp.csr_matrix((rows > 0).astype(np.float32))
                vectors = self._model.recalculate_user(users, binary)
        return np.asarray(vectors @ self._model.item_factors.T, dtype=np.float64)


def fit_item_similarity(matrix: Matrix) -> Scores:
    """The live recommender's item-item similarity from implicit feedback.

    ALS item vectors from ``implicit`` (factors: half the items, 2 to 32), their
    cosine; item-kNN (20 neighbours) where ``implicit`` is missing or fails.

    Args:
        matrix: Users x items feedback (only its non-zero entries count).

    Returns:
        Items x items, diagonal 0.
    """
    try:
        if implicit_available():
            model = FactorModel("als", factors=max(2, min(32, matrix.shape[1] // 2)))
            model.fit(matrix)
            return model.item_similarity()
    except Exception:  # a broken native library must not break recommendations
        logger.exception("implicit ALS failed; using item-kNN instead.")
    knn = ItemKnn(neighbours=20)
    knn.fit(matrix)
    return knn.item_similarity()


def implicit_available() -> bool:
    """Whether the ``implicit`` library can be imported."""
    try:
        import implicit  # noqa: F401
    except ImportError:
        return False
    return True
