from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.nlu_report import ReportError, main, summarise

REPORT = {
    "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 10},
    "ask_price": {"precision": 0.8, "recall": 0.6, "f1-score": 0.69, "support": 10},
    "accuracy": 0.8,
    "macro avg": {"precision": 0.9, "recall": 0.8, "f1-score": 0.845, "support": 20},
    "weighted avg": {"precision": 0.9, "recall": 0.8, "f1-score": 0.845, "support": 20},
}


@pytest.fixture
def results(tmp_path: Path) -> Path:
    (tmp_path / "intent_report.json").write_text(json.dumps(REPORT))
    entity = {"macro avg": {"f1-score": 0.7}}
    (tmp_path / "DIETClassifier_report.json").write_text(json.dumps(entity))
    return tmp_path


def test_summary_reads_rasas_reports(results: Path) -> None:
    summary = summarise(results)
    assert summary.intent_accuracy == 0.8
    assert summary.intent_macro_f1 == 0.845
    assert summary.examples == 20
    assert summary.weakest_intents[0] == ("ask_price", 0.69)
    assert summary.entity_f1 == {"DIETClassifier": 0.7}


def test_every_entity_extractors_report_is_read(results: Path) -> None:
    for name, f1 in (
        ("RegexEntityExtractor", 0.3),
        ("CRFEntityExtractor", 0.5),
        ("BertIntentSentimentClassifier", 0.6),
    ):
        entity = {"macro avg": {"f1-score": f1}}
        (results / f"{name}_report.json").write_text(json.dumps(entity))
    (results / "sentiment_report.json").write_text(json.dumps({"model": {}}))

    assert summarise(results).entity_f1 == {
        "BertIntentSentimentClassifier": 0.6,
        "CRFEntityExtractor": 0.5,
        "DIETClassifier": 0.7,
        "RegexEntityExtractor": 0.3,
    }


def test_gate_passes_and_fails_on_accuracy(results: Path) -> None:
    assert main([str(results), "--min-accuracy", "0.8"]) == 0
    assert main([str(results), "--min-accuracy", "0.81"]) == 1


def test_missing_or_broken_report_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="run `rasa test` first"):
        summarise(tmp_path)
    (tmp_path / "intent_report.json").write_text("{not json")
    assert main([str(tmp_path)]) == 2
