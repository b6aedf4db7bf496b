"""Offline evaluation of the recommenders on MovieLens 100k (``make bench-rec``).

Protocol: ratings read as implicit feedback; per user the latest interaction is
the test item and the one before it the validation item (leave-last-out, ties in
time broken by file order). Every model ranks all items the user has not seen in
training; HR@10 and NDCG@10 are averaged over users.

Models, side by side in one run: popularity, item-kNN (cosine), the ``implicit``
library's ALS and BPR (each with default settings and tuned on a small grid),
and ours: the live recommender's scoring, run by the live code. Each film is a
product whose categories are its genres, whose rating and sales are its mean
training rating and number of training users, and each rating is a purchase at
its timestamp; :func:`recommender.collaborative.fit_item_similarity`,
:func:`recommender.signals.behaviour_signals` (popularity, history and the
recency-weighted collaborative signal) and :func:`recommender.blend.blend` with
:data:`recommender.hybrid.DEFAULT_WEIGHTS` score them, as
:class:`recommender.hybrid.HybridRecommender` scores the catalog. The signals that
read the customer's message or live promotions have nothing to read here (the
live recommender z-scores such a constant signal to 0). The ablation row is the
same without recency; the validation items also score each decay of
``DECAY_GRID``, to show where the live ``RECENCY_DECAY`` stands. Baselines' settings
are tuned on the validation items with the test items unseen; then every model
is retrained on all training data and scored once on the test items.

Usage: ``python -m benchmarks.recsys_bench [--max-users N] [--json out.json]``

One module (over 300 lines): the protocol, every model's run and the report
belong to one command and read top to bottom; the scoring it measures is imported
from ``recommender``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from benchmarks.movielens import Ratings, ensure_ml100k, load_ratings
from recommender.blend import Scores, blend
from recommender.collaborative import (
    FactorModel,
    ItemKnn,
    Popularity,
    Scorer,
    fit_item_similarity,
)
from recommender.hybrid import DEFAULT_WEIGHTS
from recommender.signals import (
    RECENCY_DECAY,
    behaviour_signals,
    engagement,
    popularity,
    recency_weights,
)

K = 10
# Recency decays scored on the validation items (1.0: no recency).
DECAY_GRID = (1.0, 0.9, 0.8, 0.7, 0.5)
# One user's training history: item columns and their timestamps, in file order.
History = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]
# The live signals of :func:`recommender.signals.behaviour_signals`.
BEHAVIOUR = ("popularity", "history", "collaborative")


@dataclass(frozen=True)
class Split:
    """Training matrix and one held-out item per user (column indices).

    Attributes:
        train: Users x items, 1 where the user interacted in training.
        held_out: Column of each user's held-out item (-1 for none).
        history: Per user (row of ``train``), the training items and their times.
        rating: Mean training rating of each item (0 without any).
    """

    train: sp.csr_matrix
    held_out: npt.NDArray[np.int64]
    history: tuple[History, ...]
    rating: npt.NDArray[np.float64]


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
        stars = sp.csr_matrix((ratings.stars[keep], where), shape=shape)
        seen = np.asarray(train.sum(axis=0)).ravel()
        total = np.asarray(stars.sum(axis=0)).ravel()
        rating = np.divide(total, seen, out=np.zeros(len(items)), where=seen > 0)
        kept = np.flatnonzero(keep)
        kept = kept[np.argsort(user_col[kept], kind="stable")]
        bounds = np.cumsum(np.bincount(user_col[kept], minlength=len(users)))[:-1]
        history = tuple(
            (item_col[rows], ratings.timestamps[rows])
            for rows in np.split(kept, bounds)
        )
        target = np.full(len(users), -1)
        pick = from_end == held
        target[user_col[pick]] = item_col[pick]
        return Split(train, target, history, rating)

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


def live_scores(
    history: Sequence[History],
    item_popularity: Scores,
    membership: Scores,
    similarity: Scores,
    decay: float = RECENCY_DECAY,
) -> Scores:
    """The live recommender's blended scores for each user (users x items).

    Each user's items count as purchases at their times: engagements and recency
    weights, signals and blend come from the live modules, with the live
    ``DEFAULT_WEIGHTS``; items the user has seen are not candidates.

    Args:
        history: Per user, item columns and their times.
        item_popularity: :func:`recommender.signals.popularity` of each item.
        membership: Items x categories (genres).
        similarity: :func:`recommender.collaborative.fit_item_similarity`.
        decay: The recency decay (1.0: none).
    """
    items = len(item_popularity)
    engaged = np.array([engagement(items, cols) for cols, _ in history])
    recent = np.array(
        [
            engagement(items, cols, recency_weights(times, decay))
            for cols, times in history
        ]
    )
    engaged = engaged.reshape(len(history), items)
    recent = recent.reshape(len(history), items)
    signals = behaviour_signals(
        item_popularity, membership, engaged, recent, similarity
    )
    return blend(signals, DEFAULT_WEIGHTS, engaged == 0)


def _live(split: Split, genres: npt.NDArray[np.float64]) -> Callable[[float], Scores]:
    similarity = fit_item_similarity(split.train)
    sales = np.asarray(split.train.sum(axis=0)).ravel()
    item_popularity = popularity(split.rating, sales)
    return partial(live_scores, split.history, item_popularity, genres, similarity)


def run(ratings: Ratings) -> tuple[list[Result], dict[str, float]]:
    """Evaluates every baseline and the live recommender.

    Returns:
        The test results, and validation NDCG@10 of the live scoring for each
        recency decay of ``DECAY_GRID``.
    """
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
    scores_at = _live(validation, genres)
    by_decay = {str(d): evaluate(scores_at(d), validation)[1] for d in DECAY_GRID}
    start = time.perf_counter()
    scores_at = _live(test, genres)
    shared = time.perf_counter() - start
    # The weights of the signals MovieLens has something for.
    weights = ", ".join(f"{k} {DEFAULT_WEIGHTS[k]}" for k in BEHAVIOUR)
    # Ablation first: the same scoring without recency, for an honest view.
    for label, decay in (
        ("ours: live recommender without recency (ablation)", 1.0),
        ("ours: live recommender", RECENCY_DECAY),
    ):
        start = time.perf_counter()
        hr, ndcg = evaluate(scores_at(decay), test)
        seconds = shared + time.perf_counter() - start
        settings = f"live weights: {weights}; recency decay {decay}"
        results.append(Result(label, hr, ndcg, seconds, settings))
    return results, by_decay


def markdown(results: list[Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| model | HR@10 | NDCG@10 | seconds | settings |",
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
    results, by_decay = run(ratings)
    print(
        f"MovieLens 100k: {len(np.unique(ratings.users))} users, "
        f"{len(np.unique(ratings.items))} items, {len(ratings.users)} interactions; "
        "leave-last-out, full ranking"
    )
    print(markdown(results))
    decays = ", ".join(f"{d} {ndcg:.4f}" for d, ndcg in by_decay.items())
    print(f"live recommender, validation NDCG@10 by recency decay: {decays}")
    if args.json:
        payload = {"results": [asdict(r) for r in results], "decays": by_decay}
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    best = max(r.ndcg for r in results if not r.model.startswith("ours"))
    ours = results[-1].ndcg
    print(f"ours vs best baseline NDCG@10: {ours:.4f} vs {best:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
