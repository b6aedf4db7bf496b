"""The behaviour signals the live recommender and the benchmark share."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.signals import (
    behaviour_signals,
    category_share,
    engagement,
    popularity,
    recency_weights,
)


def test_the_latest_engagement_weighs_most_whatever_the_order_given() -> None:
    weights = recency_weights([300.0, 100.0, 200.0], decay=0.5)
    assert weights.tolist() == [1.0, 0.25, 0.5]


def test_equal_times_keep_the_order_given() -> None:
    assert recency_weights([5.0, 5.0, 1.0], decay=0.5).tolist() == [0.5, 1.0, 0.25]


def test_decay_one_is_no_recency() -> None:
    assert recency_weights([3.0, 1.0, 2.0], decay=1.0).tolist() == [1.0, 1.0, 1.0]
    assert recency_weights([]).shape == (0,)


def test_engagements_add_up_per_item() -> None:
    assert engagement(4, [2, 0, 2]).tolist() == [1.0, 0.0, 2.0, 0.0]
    assert engagement(3, [1, 1], [0.5, 0.25]).tolist() == [0.0, 0.75, 0.0]


def test_category_share_counts_every_category_of_an_item() -> None:
    # Items 0 and 1 in category A, item 2 in B, item 3 in A and B.
    membership = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    share = category_share(np.array([3.0, 0.0, 1.0, 0.0]), membership)
    assert share.tolist() == [0.75, 0.75, 0.25, 1.0]
    assert category_share(np.zeros(4), membership).tolist() == [0.0] * 4


def test_popularity_damps_sales_and_ignores_negative_ones() -> None:
    scores = popularity([4.0, 5.0, 3.0], [np.e - 1, 0.0, -5.0])
    assert scores == pytest.approx([4.0, 0.0, 0.0])


def test_rows_score_like_single_customers() -> None:
    rng = np.random.default_rng(0)
    similarity = rng.random((5, 5))
    membership = np.eye(5)[:, :3] + np.eye(5)[:, 2:5]
    engaged = np.array([[1.0, 0.0, 2.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 1.0]])
    recent = engaged * 0.5
    rows = behaviour_signals(np.arange(5.0), membership, engaged, recent, similarity)
    for row in range(2):
        one = behaviour_signals(
            np.arange(5.0), membership, engaged[row], recent[row], similarity
        )
        for name, scores in one.items():
            assert rows[name][row] == pytest.approx(scores)


def test_no_collaborative_signal_without_similarity_or_engagement() -> None:
    items = np.ones(3)
    membership = np.eye(3)
    nothing = np.zeros(3)
    assert "collaborative" not in behaviour_signals(
        items, membership, nothing, nothing, np.eye(3)
    )
    once = np.array([1.0, 0.0, 0.0])
    assert "collaborative" not in behaviour_signals(items, membership, once, once, None)
    fatigue = np.array([0.0, 0.4, 0.0])
    history = behaviour_signals(items, membership, once, once, None, fatigue)["history"]
    assert history.tolist() == [1.0, -0.4, 0.0]
