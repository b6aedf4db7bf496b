"""Offline evaluation of the recommenders on MovieLens 100k (``make bench-rec``).

Protocol: ratings read as implicit feedback; per user the latest interaction is
the test item and the one before it the validation item (leave-last-out, ties in
time broken by file order). Every model ranks all items the user has not seen in
training; HR@10 and NDCG@10 are averaged over users.

Models, side by side in one run: popularity, item-kNN (cosine), the ``implicit``
library's ALS and BPR (each with default settings and tuned on a small grid),
and our hybrid (:func:`recommender.blend.blend` of the tuned ALS, BPR and item-kNN,
popularity, a genre-profile content signal and a recency signal, as the live
recommender mixes collaborative, content, history and popularity signals).
Settings and hybrid weights are chosen on the validation items with the test
items unseen; then every model is retrained on all training data and scored
once on the test items.

Usage: ``python -m benchmarks.recsys_bench [--max-users N] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from benchmarks.movielens import Ratings, ensure_ml100k, load_ratings
from recommender.blend import Scores, blend
from recommender.collaborative import FactorModel, ItemKnn, Popularity, Scorer

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
    settings: str = ""


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


Params = dict[str, Any]
Factory = Callable[..., Scorer]
BASELINES: Mapping[str, Factory] = {
    "popularity": Popularity,
    "item-kNN": ItemKnn,
    "implicit ALS": partial(FactorModel, "als"),
    "implicit BPR": partial(FactorModel, "bpr"),
}
# Settings tried for each tunable baseline on the validation items.
GRIDS: Mapping[str, tuple[Params, ...]] = {
    "item-kNN": tuple({"neighbours": n} for n in (20, 50, 100, 200)),
    "implicit ALS": tuple(
        {"factors": f, "regularization": r}
        for f in (32, 64, 128)
        for r in (0.01, 0.05, 0.2)
    ),
    "implicit BPR": tuple(
        {"factors": f, "learning_rate": lr}
        for f in (32, 64, 128)
        for lr in (0.01, 0.05)
    ),
}


def tune_baseline(name: str, validation: Split) -> Params:
    """The grid setting of a baseline with the best validation NDCG@10."""

    def quality(params: Params) -> float:
        scorer = BASELINES[name](**params)
        scorer.fit(validation.train)
        return evaluate(scorer.scores(validation.train), validation)[1]

    return max(GRIDS[name], key=quality)


def _signals(
    split: Split,
    genres: npt.NDArray[np.float64],
    tuned: Mapping[str, Params] | None = None,
) -> dict[str, Scores]:
    tuned = tuned or {}
    scorers: dict[str, Scorer] = {
        "als": FactorModel("als", **tuned.get("implicit ALS", {})),
        "bpr": FactorModel("bpr", **tuned.get("implicit BPR", {})),
        "knn": ItemKnn(**tuned.get("item-kNN", {})),
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
    signals: Mapping[str, Scores],
    names: tuple[str, ...] = HYBRID_SIGNALS,
) -> dict[str, float]:
    """The hybrid weights with the best validation NDCG@10.

    Coordinate ascent: start from the best single signal, then for each signal
    in turn keep the grid weight that helps most, for ``TUNING_ROUNDS`` rounds.

    Args:
        validation: The validation split.
        signals: Every signal computed on ``validation.train``.
        names: The signals the hybrid may use.
    """
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

    def baseline(name: str, label: str, params: Params) -> None:
        start = time.perf_counter()
        scorer = BASELINES[name](**params)
        scorer.fit(test.train)
        hr, ndcg = evaluate(scorer.scores(test.train), test)
        settings = ", ".join(f"{k} {v}" for k, v in params.items()) or "defaults"
        results.append(Result(label, hr, ndcg, time.perf_counter() - start, settings))

    for name in BASELINES:
        baseline(name, name, {})
    tuned: dict[str, Params] = {}
    for name in GRIDS:
        start = time.perf_counter()
        tuned[name] = tune_baseline(name, validation)
        baseline(name, f"{name}, tuned", tuned[name])
        seconds = results[-1].seconds + time.perf_counter() - start
        results[-1] = replace(results[-1], seconds=seconds)
    start = time.perf_counter()
    validation_signals = _signals(validation, genres, tuned)
    test_signals = _signals(test, genres, tuned)
    unseen = np.asarray(test.train.todense()) == 0
    shared = time.perf_counter() - start
    # Ablation first: the hybrid without the recency signal, for an honest view.
    static = tuple(name for name in HYBRID_SIGNALS if name != "recent")
    for label, names in (
        ("ours: hybrid without recency", static),
        ("ours: hybrid", HYBRID_SIGNALS),
    ):
        start = time.perf_counter()
        weights = tune_weights(validation, validation_signals, names)
        hr, ndcg = evaluate(blend(test_signals, weights, unseen), test)
        chosen = ", ".join(f"{k} {v}" for k, v in weights.items() if v)
        seconds = shared + time.perf_counter() - start
        results.append(Result(label, hr, ndcg, seconds, chosen))
    return results, weights


def markdown(results: list[Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| model | HR@10 | NDCG@10 | seconds | settings (tuned on validation) |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {r.model} | {r.hr:.4f} | {r.ndcg:.4f} | {r.seconds:.1f} | {r.settings} |"
        for r in results
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
