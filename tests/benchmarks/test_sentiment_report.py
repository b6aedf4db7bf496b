from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.nlu_bench import markdown
from benchmarks.nlu_eval import (
    accuracy,
    load_test_examples,
    polar_sentiment,
    snownlp_sentiment,
)
from benchmarks.sentiment_report import (
    MATRIX_FILE,
    REPORT_FILE,
    SentimentReportError,
    evaluate,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["太好用了，很喜欢", "一般般吧", "质量太差，气死了", "还行"]
GOLD = ["positive", "neutral", "negative", "neutral"]


def test_report_and_matrix_are_written(tmp_path: Path) -> None:
    predicted: list[str | None] = ["positive", "neutral", "negative", "positive"]

    report = evaluate(TEXTS, GOLD, predicted, tmp_path)

    assert report["model"]["accuracy"] == pytest.approx(0.75)
    assert report["model"]["negative"]["f1-score"] == pytest.approx(1.0)
    assert report["examples"] == 4
    assert 0.0 <= report["snownlp_reference"]["accuracy"] <= 1.0
    assert json.loads((tmp_path / REPORT_FILE).read_text()) == report
    assert (tmp_path / MATRIX_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_model_without_sentiment_is_named(tmp_path: Path) -> None:
    with pytest.raises(SentimentReportError, match="BertIntentSentimentClassifier"):
        evaluate(TEXTS, GOLD, [None] * 4, tmp_path)


def test_accuracy_skips_unknown_gold_labels() -> None:
    assert accuracy(["a", None, "b"], ["a", "x", "c"]) == pytest.approx(0.5)


def test_snownlp_reference_reads_clear_reviews() -> None:
    assert snownlp_sentiment("非常好，很满意，推荐购买", three_way=False) == "positive"
    assert snownlp_sentiment("", three_way=True) == "neutral"


def test_held_out_file_has_sentiment_on_every_example() -> None:
    examples = load_test_examples(REPO_ROOT / "tests" / "test_nlu.yml")

    assert len(examples) >= 200
    assert all(e.sentiment is not None and e.intent for e in examples)


def test_polar_sentiment_takes_the_stronger_pole() -> None:
    ranking = [
        {"name": "neutral", "confidence": 0.5},
        {"name": "negative", "confidence": 0.3},
        {"name": "positive", "confidence": 0.2},
    ]

    assert polar_sentiment({"sentiment_ranking": ranking}) == "negative"
    assert polar_sentiment({"intent": {"name": "greet"}}) is None


def test_bench_table_has_a_column_per_pipeline_and_reference() -> None:
    results = {
        "pipelines": {
            "config.yml (int8)": {"intent_accuracy": 0.95, "latency_p50_ms": 12.34},
            "configs/diet_baseline.yml": {"intent_accuracy": 0.932},
        },
        "lexical_reference": {
            "svm_intent_accuracy": 0.955,
            "svm_sentiment_accuracy_test_file": 0.79,
            "svm_sentiment_accuracy_review_holdout": 0.849,
            "snownlp_sentiment_accuracy_test_file": 0.466,
            "snownlp_sentiment_accuracy_review_holdout": 0.838,
        },
    }

    table = markdown(results).splitlines()

    assert table[0] == (
        "| metric | config.yml (int8) | configs/diet_baseline.yml "
        "| TF-IDF + LinearSVC | snownlp |"
    )
    assert "| intent accuracy | 0.950 | 0.932 | 0.955 | n/a |" in table
    assert "| latency p50 (ms) | 12.3 | n/a | n/a | n/a |" in table
    assert (
        "| sentiment acc., review holdout (2-way) | n/a | n/a | 0.849 | 0.838 |"
        in table
    )
