"""How the hybrid recommender mixes its signals: per-user z-scores, then weights.

Signals live on different scales (a sales count, a cosine, a dot product), so
each is standardised over the candidates of each user before weighting. Pure
numpy; used by the live recommender and the offline benchmark alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


def standardise(scores: Scores, candidates: Mask | None = None) -> Scores:
    """Z-scores of each row over its candidate entries (others set to 0).

    Args:
        scores: Users x items (or one row of items).
        candidates: Same shape, ``True`` where an item may be recommended.

    Returns:
        Standardised scores; a constant row becomes all zeros.
    """
    values = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    mask = (
        np.ones_like(values, dtype=bool)
        if candidates is None
        else np.atleast_2d(candidates)
    )
    counts = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    mean = np.where(mask, values, 0.0).sum(axis=1, keepdims=True) / counts
    centred = np.where(mask, values - mean, 0.0)
    std = np.sqrt((centred**2).sum(axis=1, keepdims=True) / counts)
    result = np.divide(centred, std, out=np.zeros_like(centred), where=std > 1e-12)
    return result.reshape(np.shape(scores))


def blend(
    signals: Mapping[str, Scores],
    weights: Mapping[str, float],
    candidates: Mask | None = None,
) -> Scores:
    """The weighted sum of the standardised signals named in ``weights``.

    Args:
        signals: Name -> scores, all of one shape.
        weights: Name -> weight; names missing from ``signals`` are skipped, so a
            cold-start call simply has no collaborative signal.
        candidates: Which entries are recommendable (for the standardisation).

    Returns:
        The blended scores.
    """
    shapes = {np.shape(s) for s in signals.values()}
    if len(shapes) != 1:
        raise ValueError(f"signals differ in shape: {sorted(shapes)}")
    total = np.zeros(shapes.pop())
    for name, weight in weights.items():
        if weight and name in signals:
            total += weight * standardise(signals[name], candidates)
    return total
