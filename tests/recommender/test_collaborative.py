"""The live recommender's item similarity and its fallback."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import collaborative
from recommender.collaborative import ItemKnn, fit_item_similarity


def _matrix() -> sp.csr_matrix:
    # Users 0-2 take items 0 and 1 together, users 3-5 items 2 and 3.
    rows = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    cols = [0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3]
    return sp.csr_matrix((np.ones(12), (rows, cols)), shape=(6, 4))


def test_similarity_is_items_by_items_with_a_zero_diagonal() -> None:
    similarity = fit_item_similarity(_matrix())
    assert similarity.shape == (4, 4)
    assert np.diag(similarity) == pytest.approx(np.zeros(4))


def test_item_knn_stands_in_when_als_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: collaborative.FactorModel, matrix: object) -> None:
        raise RuntimeError("no native library")

    monkeypatch.setattr(collaborative.FactorModel, "fit", broken)
    knn = ItemKnn(neighbours=20)
    knn.fit(_matrix())
    assert fit_item_similarity(_matrix()) == pytest.approx(knn.item_similarity())
