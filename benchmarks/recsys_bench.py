"""Offline evaluation of the recommenders on MovieLens 100k (``make bench-rec``).

Protocol: ratings read as implicit feedback; per user the latest interaction is
the test item and the one before it the validation item (leave-last-out, ties in
time broken by file order). Every model ranks all items the user has not seen in
training; HR@10 and NDCG@10 are averaged over users.

Models, side by side in one run: popularity, item-kNN (cosine), the ``implicit``
library's ALS and BPR, and our hybrid (:func:`actions.blend.blend` of ALS,
item-kNN, popularity and a genre-profile content signal, as the live recommender
mixes collaborative, content and popularity signals). The hybrid's weights are
chosen on the validation items with the test items unseen; then every model is
retrained on all training data and scored once on the test items.

Usage: ``python -m benchmarks.recsys_bench [--max-users N] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from actions.blend import Scores, blend
from actions.collaborative import FactorModel, ItemKnn, Popularity, Scorer
from benchmarks.movielens import Ratings, ensure_ml100k, load_ratings

K = 10
# Weights tried for each hybrid signal on the validation items.
WEIGHT_GRID = (0.0, 0.25, 0.5, 1.0)
HYBRID_SIGNALS = ("als", "bpr", "knn", "recent", "pop", "content")
# How fast older interactions fade in the "recent" signal (per later interaction).
RECENCY_DECAY = 0.8
# Rounds of coordinate ascent over the hybrid's weights.
TUNING_ROUNDS = 2


@dataclass(frozen=True)
class Split:
    """Training matrix and one held-out item per user (column indices).

    Attributes:
        train: Users x items, 1 where the user interacted in training.
        held_out: Column of each user's held-out item (-1 for none).
        recency: Like ``train``, weighted ``RECENCY_DECAY ** n`` for the item the
            user had ``n`` interactions after (the latest weighs 1).
    """

    train: sp.csr_matrix
    held_out: npt.NDArray[np.int64]
    recency: sp.csr_matrix


@dataclass(frozen=True)
class Result:
    """One model's scores on the test items."""

    model: str
    hr: float
    ndcg: float
    seconds: float


def leave_last_out(ratings: Ratings) -> tuple[Split, Split, npt.NDArray[np.float64]]:
    """Builds the validation split, the test split and the item genre matrix.

    Returns:
        ``(validation, test, genres)``: validation trains without each user's last
        two items and holds out the second last; test trains without the last
        and holds it out. ``genres`` is items x genres (binary).
    """
    users = np.unique(ratings.users)
    items = np.unique(ratings.items)
    user_col = np.searchsorted(users, ratings.users)
    item_col = np.searchsorted(items, ratings.items)
    order = np.lexsort((np.arange(len(user_col)), ratings.timestamps, user_col))
    position = np.empty_like(order)
    counts = np.bincount(user_col, minlength=len(users))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    position[order] = np.arange(len(order)) - np.repeat(starts, counts)
    from_end = counts[user_col] - 1 - position  # 0 = last, 1 = second last
    shape = (len(users), len(items))

    def split(held: int) -> Split:
        keep = from_end > held
        where = (user_col[keep], item_col[keep])
        train = sp.csr_matrix((np.ones(keep.sum()), where), shape=shape)
        train.data[:] = 1.0
        decay = RECENCY_DECAY ** (from_end[keep] - held - 1).astype(np.float64)
        recency = sp.csr_matrix((decay, where), shape=shape)
        target = np.full(len(users), -1)
        pick = from_end == held
        target[user_col[pick]] = item_col[pick]
        return Split(train, target, recency)

    names = sorted({g for i in items for g in ratings.genres.get(int(i), ())})
    genres = np.zeros((len(items), len(names)))
    for row, item in enumerate(items):
        for genre in ratings.genres.get(int(item), ()):
            genres[row, names.index(genre)] = 1.0
    return split(1), split(0), genres


def evaluate(scores: Scores, split: Split, k: int = K) -> tuple[float, float]:
    """HR@k and NDCG@k over users with a held-out item; seen items never count."""
    users = np.flatnonzero(split.held_out >= 0)
    ranked = np.array(scores[users], dtype=np.float64)
    seen = split.train[users]
    ranked[seen.nonzero()] = -np.inf
    target = ranked[np.arange(len(users)), split.held_out[users]][:, None]
    rank = (ranked > target).sum(axis=1)
    hits = rank < k
    gains = np.where(hits, 1.0 / np.log2(rank + 2.0), 0.0)
    return float(hits.mean()), float(gains.mean())


def content_scores(train: sp.csr_matrix, genres: npt.NDArray[np.float64]) -> Scores:
    """Cosine between each user's genre profile and each item's genres."""
    profile = np.asarray(train @ genres, dtype=np.float64)
    profile /= np.maximum(np.linalg.norm(profile, axis=1, keepdims=True), 1e-12)
    items = genres / np.maximum(np.linalg.norm(genres, axis=1, keepdims=True), 1e-12)
    return np.asarray(profile @ items.T, dtype=np.float64)


BASELINES: Mapping[str, Callable[[], Scorer]] = {
    "popularity": Popularity,
    "item-kNN": ItemKnn,
    "implicit ALS": lambda: FactorModel("als"),
    "implicit BPR": lambda: FactorModel("bpr"),
}


def _signals(split: Split, genres: npt.NDArray[np.float64]) -> dict[str, Scores]:
    scorers: dict[str, Scorer] = {
        "als": FactorModel("als"),
        "bpr": FactorModel("bpr"),
        "knn": ItemKnn(),
        "pop": Popularity(),
    }
    signals = {}
    for name, scorer in scorers.items():
        scorer.fit(split.train)
        signals[name] = scorer.scores(split.train)
        if isinstance(scorer, ItemKnn):
            signals["recent"] = scorer.weighted_scores(split.recency)
    signals["content"] = content_scores(split.train, genres)
    return signals


def tune_weights(
    validation: Split,
    genres: npt.NDArray[np.float64],
    names: tuple[str, ...] = HYBRID_SIGNALS,
) -> dict[str, float]:
    """The hybrid weights with the best validation NDCG@10.

    Coordinate ascent: start from the best single signal, then for each signal
    in turn keep the grid weight that helps most, for ``TUNING_ROUNDS`` rounds.
    """
    signals = _signals(validation, genres)
    unseen = np.asarray(validation.train.todense()) == 0

    def quality(weights: dict[str, float]) -> float:
        return evaluate(blend(signals, weights, unseen), validation)[1]

    singles = [{name: 1.0} for name in names]
    weights = max(singles, key=quality)
    weights = {name: weights.get(name, 0.0) for name in names}
    best = quality(weights)
    for _ in range(TUNING_ROUNDS):
        for name in names:
            for value in WEIGHT_GRID:
                trial = {**weights, name: value}
                if any(trial.values()) and (score := quality(trial)) > best:
                    best, weights = score, trial
    return weights


def run(ratings: Ratings) -> tuple[list[Result], dict[str, float]]:
    """Evaluates every baseline and the hybrid; returns results and its weights."""
    validation, test, genres = leave_last_out(ratings)
    results = []
    for name, factory in BASELINES.items():
        start = time.perf_counter()
        scorer = factory()
        scorer.fit(test.train)
        hr, ndcg = evaluate(scorer.scores(test.train), test)
        results.append(Result(name, hr, ndcg, time.perf_counter() - start))
    unseen = np.asarray(test.train.todense()) == 0
    test_signals = _signals(test, genres)
    # Ablation first: the hybrid without the recency signal, for an honest view.
    static = tuple(name for name in HYBRID_SIGNALS if name != "recent")
    start = time.perf_counter()
    static_weights = tune_weights(validation, genres, static)
    hr, ndcg = evaluate(blend(test_signals, static_weights, unseen), test)
    results.append(
        Result("ours: hybrid without recency", hr, ndcg, time.perf_counter() - start)
    )
    start = time.perf_counter()
    weights = tune_weights(validation, genres)
    hr, ndcg = evaluate(blend(test_signals, weights, unseen), test)
    results.append(Result("ours: hybrid", hr, ndcg, time.perf_counter() - start))
    return results, weights


def markdown(results: list[Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| model | HR@10 | NDCG@10 | seconds |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.model} | {r.hr:.4f} | {r.ndcg:.4f} | {r.seconds:.1f} |" for r in results
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints the table; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder with ml-100k.inter/.item")
    parser.add_argument("--max-users", type=int, help="only users with id <= N")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    folder = args.data or ensure_ml100k()
    ratings = load_ratings(folder, args.max_users)
    results, weights = run(ratings)
    print(
        f"MovieLens 100k: {len(np.unique(ratings.users))} users, "
        f"{len(np.unique(ratings.items))} items, {len(ratings.users)} interactions; "
        "leave-last-out, full ranking"
    )
    print(markdown(results))
    print(f"hybrid weights (chosen on validation): {weights}")
    if args.json:
        payload = {"results": [asdict(r) for r in results], "weights": weights}
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    best = max(r.ndcg for r in results if not r.model.startswith("ours"))
    ours = results[-1].ndcg
    print(f"ours vs best baseline NDCG@10: {ours:.4f} vs {best:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
