"""Reference points for the NLU figures: character n-gram TF-IDF + linear SVM.

Not part of the bot. It shows how far plain lexical features go on the same splits as
``benchmarks.nlu_ablation``: intents (NLU data -> held-out NLU file) and two-way
sentiment (review training split -> review holdout). It also prints snownlp's own
classifier on the review holdout.

Usage: ``python -m benchmarks.lexical_baseline``
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.nlu_eval import accuracy, load_test_examples, snownlp_sentiment
from components.sentiment_corpus import load_reviews, train_holdout_split


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


def main() -> int:
    """Prints the reference figures as one JSON line."""
    train = load_test_examples(Path("data/nlu"))
    test = load_test_examples(Path("tests/test_nlu.yml"))
    reviews, holdout = train_holdout_split(load_reviews())
    figures = {
        "intent_accuracy_svm": svm_accuracy(
            [e.text for e in train],
            [e.intent or "" for e in train],
            [e.text for e in test],
            [e.intent or "" for e in test],
            analyzer="char_wb",
            c=3.0,
        ),
        "review_holdout_accuracy_svm": svm_accuracy(
            [r.text for r in reviews],
            [r.sentiment for r in reviews],
            [r.text for r in holdout],
            [r.sentiment for r in holdout],
            analyzer="char",
            c=1.0,
        ),
        "review_holdout_accuracy_snownlp": accuracy(
            [r.sentiment for r in holdout],
            [snownlp_sentiment(r.text, three_way=False) for r in holdout],
        ),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
