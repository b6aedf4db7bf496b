from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.nlu_ablation import main
from benchmarks.nlu_eval import span_f1

# Characters in the tiny backbone's vocabulary (tests/components/conftest.py).
# Phone numbers are left to the regex extractor: not trained, not scored.
NLU = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好
    - 您好
    - 早上好
- intent: ask_price
  examples: |
    - [衣服](product)多少钱
    - [红色](color)[鞋子](product)价格多少
    - 贵吗
    - 我的[13812345678](phone_number)
"""


def test_one_small_run_prints_its_figures(
    tiny_backbone: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(NLU, encoding="utf-8")

    code = main(
        [
            "--backbone", str(tiny_backbone),
            "--nlu", str(nlu),
            "--test", str(nlu),
            "--encoder-layers", "1",
            "--epochs", "1",
            "--batch-size", "4",
            "--reviews", "16",
            "--holdout-reviews", "8",
            "--lexical-weight", "0.5",
            "--max-length", "16",
            "--int8",
        ]
    )  # fmt: skip

    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    for precision in ("fp32", "int8"):
        for key in (
            "intent_accuracy",
            "sentiment_accuracy_test_file",
            "sentiment_accuracy_reviews",
        ):
            assert 0.0 <= figures[precision][key] <= 1.0, (precision, key)
        entity_f1 = figures[precision]["entity_span_f1"]
        assert 0.0 <= entity_f1["macro"] <= 1.0 and 0.0 <= entity_f1["micro"] <= 1.0
    assert figures["settings"]["lexical_weight"] == 0.5
    assert set(figures["fp32_encoder_only"]) == set(figures["fp32"])
    assert figures["settings"]["encoder_layers"] == 1
    assert figures["train_seconds"] >= 0 and math.isfinite(figures["train_loss"])
    for latency in (figures["fp32_latency"], figures["int8_latency"]):
        assert 0.0 < latency["p50_ms"] <= latency["p95_ms"]


def test_without_int8_only_the_float_model_is_measured(
    tiny_backbone: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(NLU, encoding="utf-8")

    main(
        [
            "--backbone", str(tiny_backbone),
            "--nlu", str(nlu),
            "--test", str(nlu),
            "--epochs", "1",
            "--reviews", "0",
            "--holdout-reviews", "4",
            "--max-length", "16",
            "--no-bf16",
        ]
    )  # fmt: skip

    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "int8" not in figures and "int8_latency" not in figures
    assert set(figures["fp32"]) == {
        "intent_accuracy",
        "sentiment_accuracy_test_file",
        "entity_span_f1",
        "sentiment_accuracy_reviews",
    }


# --- span F1 ------------------------------------------------------------------------


def test_span_f1_counts_only_exact_typed_spans() -> None:
    gold = [
        [("product", 0, 2)],
        [("product", 0, 2), ("color", 3, 5)],
        [],
    ]
    predicted = [
        [("product", 0, 2)],  # hit
        [("product", 0, 3), ("product", 3, 5)],  # wrong end; wrong type
        [("color", 0, 1)],  # nothing there
    ]

    scores = span_f1(gold, predicted)

    # product: 1 hit, 3 predicted, 2 gold; color: 0 hits, 1 predicted, 1 gold.
    assert scores["product"] == pytest.approx(2 * 1 / (3 + 2))
    assert scores["color"] == 0.0
    assert scores["macro"] == pytest.approx((0.4 + 0.0) / 2)
    assert scores["micro"] == pytest.approx(2 * 1 / (4 + 3))


def test_span_f1_of_perfect_and_of_empty_predictions() -> None:
    gold = [[("product", 0, 2), ("color", 2, 4)], [("product", 1, 3)]]

    assert span_f1(gold, gold) == {
        "color": 1.0,
        "product": 1.0,
        "macro": 1.0,
        "micro": 1.0,
    }
    assert span_f1(gold, [[], []]) == {
        "color": 0.0,
        "product": 0.0,
        "macro": 0.0,
        "micro": 0.0,
    }
    # No gold entity at all: no type to average over.
    assert math.isnan(span_f1([[]], [[]])["macro"])


def test_span_f1_needs_one_prediction_list_per_text() -> None:
    with pytest.raises(ValueError):
        span_f1([[("product", 0, 2)]], [])


def test_span_f1_micro_counts_predictions_of_types_missing_from_gold() -> None:
    gold = [[("product", 0, 2)]]
    predicted = [[("product", 0, 2), ("city", 3, 5)]]

    # One of two predictions right, the one gold span found.
    assert span_f1(gold, predicted)["micro"] == pytest.approx(2 * 1 / (2 + 1))
