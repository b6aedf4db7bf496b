"""Sentiment evaluation next to ``rasa test``'s intent results.

``rasa test nlu`` knows nothing of our ``sentiment`` output, so this parses the
held-out NLU file with the trained model and writes, into the results folder:

- ``sentiment_report.json``: scikit-learn's classification report (per label
  precision, recall, F1, support; accuracy; macro and weighted averages), with
  snownlp's classifier on the same texts as a reference;
- ``sentiment_confusion_matrix.png``.

Usage: ``python -m benchmarks.sentiment_report --model models --out results``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.nlu_eval import (
    accuracy,
    classification_report,
    load_agent,
    load_test_examples,
    parse_all,
    plot_confusion_matrix,
    predicted_sentiment,
    snownlp_sentiment,
)
from nlu.constants import SENTIMENT_LABELS

REPORT_FILE = "sentiment_report.json"
MATRIX_FILE = "sentiment_confusion_matrix.png"


class SentimentReportError(Exception):
    """The model gives no sentiment, or the test file has no sentiment labels."""


def evaluate(
    texts: list[str], gold: list[str], predicted: list[str | None], out: Path
) -> dict[str, Any]:
    """Writes the report and the matrix into ``out``; returns the report.

    Raises:
        SentimentReportError: No text has a predicted sentiment.
    """
    if all(label is None for label in predicted):
        raise SentimentReportError(
            "the model puts no 'sentiment' on parsed messages: its pipeline needs "
            "BertIntentSentimentClassifier (see config.yml)"
        )
    reference = [snownlp_sentiment(text, three_way=True) for text in texts]
    report = {
        "model": classification_report(gold, predicted, SENTIMENT_LABELS),
        "snownlp_reference": {
            "accuracy": accuracy(gold, reference),
            "note": "snownlp's binary classifier, neutral when 0.4 < P(pos) < 0.6",
        },
        "examples": len(gold),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
    plot_confusion_matrix(
        gold,
        predicted,
        SENTIMENT_LABELS,
        out / MATRIX_FILE,
        f"Sentiment on the held-out file (n={len(gold)})",
    )
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models"))
    parser.add_argument("--nlu", type=Path, default=Path("tests/test_nlu.yml"))
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)

    examples = [e for e in load_test_examples(args.nlu) if e.sentiment is not None]
    if not examples:
        print(f"{args.nlu} has no examples with metadata.sentiment", file=sys.stderr)
        return 1
    texts = [e.text for e in examples]
    parses, _ = parse_all(load_agent(args.model), texts)
    try:
        report = evaluate(
            texts,
            [e.sentiment or "" for e in examples],
            [predicted_sentiment(p) for p in parses],
            args.out,
        )
    except SentimentReportError as e:
        print(f"sentiment report: {e}", file=sys.stderr)
        return 1
    model = report["model"]
    print(
        f"Sentiment on {args.nlu} ({report['examples']} examples): accuracy "
        f"{model['accuracy']:.3f}, macro-F1 {model['macro avg']['f1-score']:.3f} "
        f"(snownlp reference {report['snownlp_reference']['accuracy']:.3f}). "
        f"Written: {args.out / REPORT_FILE}, {args.out / MATRIX_FILE}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
