"""The lexical expert: character n-gram TF-IDF + logistic regression per head.

A fine-tuned encoder generalises from meaning; character n-grams catch at once
what it reads less surely from a thousand examples: product names, model
numbers, typos, set phrases, emoticons. For the intent and the sentiment head
the joint model multiplies the encoder's probabilities with this model's and
renormalises (a product of experts), so each corrects the other where it is
unsure. One TF-IDF vocabulary serves every head, so a message is vectorised
once. scikit-learn does the feature extraction and the fitting; the fitted model
is saved as plain JSON and safetensors (no pickle) and applied with numpy.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer

FloatArray = npt.NDArray[np.float64]
META_FILE = "lexical.json"
WEIGHTS_FILE = "lexical.safetensors"
# Bias of a label without any example: far below, so its probability is ~0.
_UNSEEN_BIAS = -30.0


@dataclass(frozen=True)
class LexicalSpec:
    """How the lexical expert reads and fits texts."""

    analyzer: str = "char_wb"  # character n-grams inside word boundaries
    min_n: int = 1
    max_n: int = 3
    # Inverse L2 strength of the logistic regressions (5-fold cross-validation
    # on our NLU data chose it; the component's `lexical_c`).
    c: float = 30.0


@dataclass(frozen=True)
class HeadData:
    """One head's training texts, their targets and the head's label order."""

    texts: Sequence[str]
    targets: Sequence[str]
    labels: Sequence[str]


@dataclass(frozen=True)
class _Head:
    labels: tuple[str, ...]
    weights: FloatArray  # (vocabulary, labels), contiguous for the sparse product
    bias: FloatArray  # (labels,)


class LexicalModel:
    """Multinomial logistic regressions over one TF-IDF character n-gram space.

    Build it with `fit` or `load`; `probabilities` gives, per head, one row per
    text over the head's labels in their fixed order.
    """

    def __init__(
        self, vectorizer: TfidfVectorizer, heads: dict[str, _Head], spec: LexicalSpec
    ):
        self._vectorizer = vectorizer
        self._heads = heads
        self.spec = spec

    @property
    def heads(self) -> tuple[str, ...]:
        """The heads this model has an expert for."""
        return tuple(self._heads)

    @classmethod
    def fit(
        cls, data: Mapping[str, HeadData], spec: LexicalSpec = LexicalSpec()
    ) -> LexicalModel:
        """Fits one regression per head on the TF-IDF of all heads' texts.

        Repeated (text, target) pairs count once, so repeating examples for the
        encoder does not change the regularisation here. Labels without any
        example get no evidence (zero weights, a very low bias).

        Raises:
            ValueError: A head without examples, or a target outside its labels.
        """
        pairs = {}
        for head, part in data.items():
            pairs[head] = sorted(set(zip(part.texts, part.targets, strict=True)))
            if not pairs[head]:
                raise ValueError(f"the lexical expert of {head} needs examples")
            unknown = {t for _, t in pairs[head]} - set(part.labels)
            if unknown:
                raise ValueError(f"{head} targets {sorted(unknown)} are unknown")
        vectorizer = _vectorizer(spec)
        vectorizer.fit(sorted({text for p in pairs.values() for text, _ in p}))
        heads = {
            head: _fit_head(vectorizer, pairs[head], tuple(part.labels), spec.c)
            for head, part in data.items()
        }
        return cls(vectorizer, heads, spec)

    def probabilities(self, texts: Sequence[str]) -> dict[str, FloatArray]:
        """Per head, softmax scores: one row per text, columns in label order."""
        features = self._vectorizer.transform(list(texts))
        result = {}
        for name, head in self._heads.items():
            logits = np.asarray(features @ head.weights) + head.bias
            logits -= logits.max(axis=1, keepdims=True)
            exp = np.exp(logits)
            result[name] = exp / exp.sum(axis=1, keepdims=True)
        return result

    def save(self, directory: Path) -> None:
        """Writes `META_FILE` (vocabulary, idf, spec, labels) and `WEIGHTS_FILE`."""
        meta = {
            "spec": asdict(self.spec),
            "heads": {name: list(head.labels) for name, head in self._heads.items()},
            "vocabulary": {k: int(v) for k, v in self._vectorizer.vocabulary_.items()},
            "idf": self._vectorizer.idf_.tolist(),
        }
        (directory / META_FILE).write_text(
            json.dumps(meta, ensure_ascii=False), encoding="utf-8"
        )
        arrays = {}
        for name, head in self._heads.items():
            arrays[f"{name}.weights"] = head.weights
            arrays[f"{name}.bias"] = head.bias
        save_file(arrays, str(directory / WEIGHTS_FILE))

    @classmethod
    def load(cls, directory: Path) -> LexicalModel:
        """Reads a model written by `save`.

        Raises:
            OSError, ValueError, KeyError: The files are missing or inconsistent.
        """
        meta: dict[str, Any] = json.loads(
            (directory / META_FILE).read_text(encoding="utf-8")
        )
        spec = LexicalSpec(**meta["spec"])
        vectorizer = _vectorizer(spec, vocabulary=meta["vocabulary"])
        vectorizer.idf_ = np.asarray(meta["idf"], dtype=np.float64)
        arrays = load_file(str(directory / WEIGHTS_FILE))
        heads = {}
        for name, labels in meta["heads"].items():
            head = _Head(
                tuple(labels), arrays[f"{name}.weights"], arrays[f"{name}.bias"]
            )
            if head.weights.shape != (len(meta["vocabulary"]), len(labels)):
                raise ValueError(f"{name}: weights do not match labels and vocabulary")
            heads[name] = head
        return cls(vectorizer, heads, spec)


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


def normalise(text: str) -> str:
    """NFKC (full-width to half-width) and lower case, as customers vary both."""
    return unicodedata.normalize("NFKC", text).lower()


def _fit_head(
    vectorizer: TfidfVectorizer,
    pairs: list[tuple[str, str]],
    labels: tuple[str, ...],
    c: float,
) -> _Head:
    from sklearn.linear_model import LogisticRegression

    features = vectorizer.transform([text for text, _ in pairs])
    targets = [target for _, target in pairs]
    weights = np.zeros((features.shape[1], len(labels)))
    bias = np.full(len(labels), _UNSEEN_BIAS)
    seen = sorted(set(targets))
    if len(seen) == 1:
        bias[labels.index(seen[0])] = 0.0
        return _Head(labels, weights, bias)
    regression = LogisticRegression(C=c, max_iter=5000).fit(features, targets)
    columns = [labels.index(label) for label in regression.classes_]
    if len(seen) == 2:  # sklearn keeps one row for two classes
        weights[:, columns[1]] = regression.coef_[0]
        bias[columns] = [0.0, regression.intercept_[0]]
    else:
        weights[:, columns] = regression.coef_.T
        bias[columns] = regression.intercept_
    return _Head(labels, np.ascontiguousarray(weights), bias)


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
