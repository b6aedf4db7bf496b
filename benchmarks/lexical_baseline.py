"""Reference points for the NLU figures: character n-gram TF-IDF + linear SVM.

Not part of the bot. It shows how far plain lexical features go on the same splits as
``make bench-nlu`` and ``benchmarks.nlu_ablation``: intents and three-way sentiment
(NLU data -> held-out NLU file) and two-way sentiment (review training split ->
review holdout), next to snownlp's own classifier; ``make bench-nlu`` prints them
beside the pipelines.

Usage: ``python -m benchmarks.lexical_baseline``
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.nlu_eval import accuracy, load_test_examples, snownlp_sentiment
from nlu.sentiment_corpus import load_reviews, train_holdout_split


def svm_accuracy(
    train: Sequence[str],
    labels: Sequence[str],
    test: Sequence[str],
    gold: Sequence[str],
    analyzer: str,
    c: float,
) -> float:
    """Accuracy of TF-IDF (characters 1-3, sublinear tf) + LinearSVC."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(
        analyzer=analyzer, ngram_range=(1, 3), sublinear_tf=True
    )
    model = LinearSVC(C=c).fit(vectorizer.fit_transform(train), labels)
    predicted = [str(label) for label in model.predict(vectorizer.transform(test))]
    return accuracy(list(gold), predicted)


def reference_figures(
    nlu: Path, train_nlu: Path = Path("data/nlu")
) -> dict[str, float]:
    """TF-IDF + LinearSVC and snownlp on the splits ``make bench-nlu`` uses.

    Intents and three-way sentiment: ``train_nlu`` -> ``nlu``; two-way
    sentiment: the review training split -> the review holdout.
    """
    train = load_test_examples(train_nlu)
    test = load_test_examples(nlu)
    reviews, holdout = train_holdout_split(load_reviews())
    with_sentiment = [e for e in train if e.sentiment]
    return {
        "svm_intent_accuracy": svm_accuracy(
            [e.text for e in train],
            [e.intent or "" for e in train],
            [e.text for e in test],
            [e.intent or "" for e in test],
            analyzer="char_wb",
            c=3.0,
        ),
        "svm_sentiment_accuracy_test_file": svm_accuracy(
            [e.text for e in with_sentiment],
            [e.sentiment or "" for e in with_sentiment],
            [e.text for e in test],
            [e.sentiment or "" for e in test],
            analyzer="char_wb",
            c=1.0,
        ),
        "svm_sentiment_accuracy_review_holdout": svm_accuracy(
            [r.text for r in reviews],
            [r.sentiment for r in reviews],
            [r.text for r in holdout],
            [r.sentiment for r in holdout],
            analyzer="char",
            c=1.0,
        ),
        "snownlp_sentiment_accuracy_test_file": accuracy(
            [e.sentiment for e in test],
            [snownlp_sentiment(e.text, three_way=True) for e in test],
        ),
        "snownlp_sentiment_accuracy_review_holdout": accuracy(
            [r.sentiment for r in holdout],
            [snownlp_sentiment(r.text, three_way=False) for r in holdout],
        ),
    }


def main() -> int:
    """Prints the reference figures on ``tests/test_nlu.yml`` as one JSON line."""
    print(json.dumps(reference_figures(Path("tests/test_nlu.yml"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
