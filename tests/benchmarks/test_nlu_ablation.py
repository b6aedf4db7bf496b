from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.nlu_ablation import main

NLU = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好
    - 您好
    - 早上好
- intent: ask_price
  examples: |
    - 多少钱
    - 价格多少
    - 贵吗
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
            "--epochs", "1",
            "--reviews", "16",
            "--holdout-reviews", "8",
            "--ngram-buckets", "128",
            "--max-length", "16",
        ]
    )  # fmt: skip

    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    for key in (
        "intent_accuracy",
        "sentiment_accuracy_test_file",
        "sentiment_accuracy_reviews",
    ):
        assert 0.0 <= figures[key] <= 1.0
    assert figures["settings"]["ngram_buckets"] == 128
