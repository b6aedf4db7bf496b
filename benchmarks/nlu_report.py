"""Summarises ``rasa test`` NLU results and gates on intent accuracy.

``rasa test`` never fails on a weak NLU model, so ``make test`` runs this after it:
it prints intent accuracy and macro-F1 on the held-out file (plus entity F1 per
extractor) and exits non-zero when accuracy is below ``--min-accuracy``.

Usage: ``python -m benchmarks.nlu_report results --min-accuracy 0.8``
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INTENT_REPORT = "intent_report.json"
# Entity extractors whose `rasa test` reports are summarised (globs).
ENTITY_EXTRACTORS = (
    "*EntityExtractor",
    "DIETClassifier",
    "BertIntentSentimentClassifier",
)
# Rows of Rasa's classification reports that are aggregates, not labels.
AGGREGATE_ROWS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


class ReportError(Exception):
    """The results folder does not hold the reports ``rasa test`` writes."""


@dataclass(frozen=True)
class NluSummary:
    """Headline numbers of one ``rasa test`` NLU run."""

    intent_accuracy: float
    intent_macro_f1: float
    intent_weighted_f1: float
    examples: int
    weakest_intents: list[tuple[str, float]]
    entity_f1: dict[str, float]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ReportError(f"{path} is missing: run `rasa test` first.") from e
    except json.JSONDecodeError as e:
        raise ReportError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise ReportError(f"{path} does not hold a classification report.")
    return data


def summarise(results_dir: Path, weakest: int = 5) -> NluSummary:
    """Reads Rasa's intent and entity reports from ``results_dir``.

    Args:
        results_dir: The ``--out`` folder of ``rasa test``.
        weakest: How many lowest-F1 intents to list.

    Returns:
        The summary.

    Raises:
        ReportError: When the intent report is missing or malformed.
    """
    report = _read_json(results_dir / INTENT_REPORT)
    try:
        labels = {
            name: float(row["f1-score"])
            for name, row in report.items()
            if name not in AGGREGATE_ROWS
        }
        summary_rows = report["macro avg"], report["weighted avg"]
        accuracy = float(report["accuracy"])
        examples = int(report["weighted avg"]["support"])
    except (KeyError, TypeError, ValueError) as e:
        raise ReportError(f"Unexpected intent report format: {e!r}") from e
    entity_f1 = {}
    # One report per entity extractor (Rasa names them after the component).
    paths = [
        p for name in ENTITY_EXTRACTORS for p in results_dir.glob(f"{name}_report.json")
    ]
    for path in sorted(paths):
        entity_report = _read_json(path)
        macro = entity_report.get("macro avg")
        if isinstance(macro, dict) and "f1-score" in macro:
            entity_f1[path.name.removesuffix("_report.json")] = float(macro["f1-score"])
    return NluSummary(
        intent_accuracy=accuracy,
        intent_macro_f1=float(summary_rows[0]["f1-score"]),
        intent_weighted_f1=float(summary_rows[1]["f1-score"]),
        examples=examples,
        weakest_intents=sorted(labels.items(), key=lambda kv: kv[1])[:weakest],
        entity_f1=entity_f1,
    )


def render(summary: NluSummary) -> str:
    """The summary as a few human-readable lines."""
    lines = [
        f"NLU on {summary.examples} held-out examples: "
        f"intent accuracy {summary.intent_accuracy:.3f}, "
        f"macro-F1 {summary.intent_macro_f1:.3f}, "
        f"weighted-F1 {summary.intent_weighted_f1:.3f}",
        "weakest intents (F1): "
        + ", ".join(f"{name} {f1:.2f}" for name, f1 in summary.weakest_intents),
    ]
    lines += [
        f"entity macro-F1 ({name}): {f1:.3f}" for name, f1 in summary.entity_f1.items()
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the --out folder of rasa test")
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        summary = summarise(args.results)
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(render(summary))
    if summary.intent_accuracy < args.min_accuracy:
        print(
            f"FAIL: intent accuracy {summary.intent_accuracy:.3f} is below "
            f"{args.min_accuracy:.3f}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
