"""The lexical expert: character n-gram TF-IDF + logistic regression, per head.

A fine-tuned encoder generalises from meaning; character n-grams catch at once
what it reads less surely from a thousand examples: product names, model
numbers, typos, set phrases, emoticons. For the intent and the sentiment head
the joint model multiplies the encoder's probabilities with this model's and
renormalises (a product of experts), so each corrects the other where it is
unsure. scikit-learn does the feature extraction and the fitting; the fitted
model is saved as plain JSON and safetensors (no pickle) and applied with numpy.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LexicalSpec:
    """How the lexical expert reads and fits a head's texts."""

    analyzer: str = "char_wb"  # character n-grams inside word boundaries
    min_n: int = 1
    max_n: int = 3
    c: float = 10.0  # inverse L2 strength of the logistic regression


class LexicalModel:
    """Multinomial logistic regression over TF-IDF character n-grams.

    Build it with `fit` or `load`; `probabilities` gives one row per text over
    ``labels`` in their fixed order.
    """

    def __init__(
        self,
        vectorizer: TfidfVectorizer,
        coef: FloatArray,
        intercept: FloatArray,
        labels: tuple[str, ...],
        spec: LexicalSpec,
    ):
        self._vectorizer = vectorizer
        self._coef = coef
        self._intercept = intercept
        self.labels = labels
        self.spec = spec

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        targets: Sequence[str],
        labels: Sequence[str],
        spec: LexicalSpec = LexicalSpec(),
    ) -> LexicalModel:
        """Fits on ``texts`` with ``targets`` (each one of ``labels``).

        Repeated (text, target) pairs count once, so repeating examples for the
        encoder does not change the regularisation here. Labels without any
        example get no evidence either way (zero weights, a very low bias).

        Raises:
            ValueError: No examples, or a target outside ``labels``.
        """
        from sklearn.linear_model import LogisticRegression

        pairs = sorted(set(zip(texts, targets, strict=True)))
        if not pairs:
            raise ValueError("the lexical model needs at least one example")
        unknown = {t for _, t in pairs} - set(labels)
        if unknown:
            raise ValueError(f"targets {sorted(unknown)} are not among {labels}")
        vectorizer = _vectorizer(spec)
        features = vectorizer.fit_transform([text for text, _ in pairs])
        seen = sorted({t for _, t in pairs})
        coef = np.zeros((len(labels), features.shape[1]))
        # Unseen labels: no weights and a bias far below, so ~0 probability.
        intercept = np.full(len(labels), -30.0)
        if len(seen) == 1:
            intercept[list(labels).index(seen[0])] = 0.0
        else:
            regression = LogisticRegression(C=spec.c, max_iter=5000)
            regression.fit(features, [t for _, t in pairs])
            rows = [list(labels).index(label) for label in regression.classes_]
            if len(seen) == 2:  # sklearn keeps one row for two classes
                coef[rows[1]] = regression.coef_[0]
                intercept[rows] = [0.0, regression.intercept_[0]]
            else:
                coef[rows] = regression.coef_
                intercept[rows] = regression.intercept_
        return cls(vectorizer, coef, intercept, tuple(labels), spec)

    def probabilities(self, texts: Sequence[str]) -> FloatArray:
        """Softmax scores, one row per text, columns in ``labels`` order."""
        scores = self._vectorizer.transform(list(texts)) @ self._coef.T
        logits = np.asarray(scores) + self._intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs: FloatArray = exp / exp.sum(axis=1, keepdims=True)
        return probs

    def save(self, directory: Path, name: str) -> None:
        """Writes ``<name>.json`` (vocabulary, idf, spec) and ``<name>.safetensors``."""
        meta = {
            "labels": list(self.labels),
            "spec": self.spec.__dict__,
            "vocabulary": {k: int(v) for k, v in self._vectorizer.vocabulary_.items()},
            "idf": self._vectorizer.idf_.tolist(),
        }
        (directory / f"{name}.json").write_text(
            json.dumps(meta, ensure_ascii=False), encoding="utf-8"
        )
        save_file(
            {"coef": self._coef, "intercept": self._intercept},
            str(directory / f"{name}.safetensors"),
        )

    @classmethod
    def load(cls, directory: Path, name: str) -> LexicalModel:
        """Reads a model written by `save`.

        Raises:
            OSError, ValueError, KeyError: The files are missing or inconsistent.
        """
        meta: dict[str, Any] = json.loads(
            (directory / f"{name}.json").read_text(encoding="utf-8")
        )
        spec = LexicalSpec(**meta["spec"])
        vectorizer = _vectorizer(spec, vocabulary=meta["vocabulary"])
        vectorizer.idf_ = np.asarray(meta["idf"], dtype=np.float64)
        arrays = load_file(str(directory / f"{name}.safetensors"))
        coef, intercept = arrays["coef"], arrays["intercept"]
        labels = tuple(meta["labels"])
        if coef.shape != (len(labels), len(meta["vocabulary"])) or intercept.shape != (
            len(labels),
        ):
            raise ValueError(f"{name}: weights do not match its labels and vocabulary")
        return cls(vectorizer, coef, intercept, labels, spec)


def product_of_experts(
    deep: FloatArray, lexical: FloatArray, weight: float
) -> FloatArray:
    """``deep * lexical ** weight``, renormalised per row (weight 0: ``deep``)."""
    if weight == 0:
        return deep
    log = np.log(np.clip(deep, 1e-12, None)) + weight * np.log(
        np.clip(lexical, 1e-12, None)
    )
    log -= log.max(axis=1, keepdims=True)
    exp = np.exp(log)
    combined: FloatArray = exp / exp.sum(axis=1, keepdims=True)
    return combined


def _vectorizer(
    spec: LexicalSpec, vocabulary: dict[str, int] | None = None
) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=spec.analyzer,
        ngram_range=(spec.min_n, spec.max_n),
        sublinear_tf=True,
        preprocessor=normalise,
        vocabulary=vocabulary,
    )


def normalise(text: str) -> str:
    """NFKC (full-width to half-width) and lower case, as customers vary both."""
    return unicodedata.normalize("NFKC", text).lower()
