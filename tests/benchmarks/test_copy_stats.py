"""The copy benchmark's figures on synthetic runs."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from benchmarks.copy_stats import (
    DRAFT,
    DUPLICATE,
    EMPTY,
    ERROR,
    BackendRun,
    Sample,
    examples,
    markdown,
    percentile,
    summarize,
)

INVENTED_PRICE = ("facts", "amounts not in the brief: 899 (money)")
INVENTED_DATE = ("facts", "dates not in the brief: 12月20日")
TOO_LONG = ("length", "130 characters; write 30-120")


def _run() -> BackendRun:
    samples = (
        Sample(0, 0, 2.0, DRAFT, "raw", "极光 X5 限时优惠，欢迎了解", (), 40),
        Sample(1, 0, 4.0, DRAFT, "raw", "原价 899 的耳机", (INVENTED_PRICE,), 60),
        Sample(2, 0, 6.0, DRAFT, "raw", "12月20日截止", (INVENTED_DATE, TOO_LONG), 80),
        Sample(3, 0, 8.0, EMPTY, "文案：", "", (), 10),
        Sample(4, 0, 10.0, DUPLICATE, "raw", "极光 X5 限时优惠，欢迎了解！", (), 10),
        Sample(5, 0, 0.5, ERROR, "model failed", ""),
    )
    return BackendRun("qwen", "model", samples, 12.5, 100.0, 3000.0, {"seed": 1})


def test_summary_shares_are_of_checked_drafts_and_samples() -> None:
    summary = summarize(_run())
    assert (summary.samples, summary.drafts) == (6, 3)
    assert (summary.duplicates, summary.errors) == (1, 1)
    assert summary.empty == pytest.approx(1 / 6)
    assert summary.passing == {
        "ad_law": 1.0,
        "facts": pytest.approx(1 / 3),
        "format": 1.0,
        "length": pytest.approx(2 / 3),
        "size": 1.0,
    }
    assert summary.invented == {
        "numbers": pytest.approx(1 / 3),
        "dates": pytest.approx(1 / 3),
        "products": 0.0,
        "offers": 0.0,
    }
    assert summary.all_checks == pytest.approx(1 / 3)
    assert summary.usable == pytest.approx(1 / 6)
    assert summary.seconds_mean == pytest.approx(30.5 / 6)
    assert summary.seconds_median == pytest.approx(5.0)
    assert summary.seconds_p95 == 10.0
    # Tokens over the seconds of the samples that counted tokens (not the error).
    assert summary.tokens_per_s == pytest.approx(200 / 30)
    assert summary.distinct_2 is not None and 0 < summary.distinct_2 <= 1
    assert (summary.load_seconds, summary.peak_rss_mib) == (12.5, 3000.0)


def test_a_run_with_nothing_to_count_says_so() -> None:
    summary = summarize(BackendRun("qwen", "model", skipped="not built"))
    assert summary.samples == 0 and summary.all_checks is None
    assert summary.passing["facts"] is None and summary.seconds_p95 is None
    assert summary.distinct_2 is None and summary.tokens_per_s is None


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 95) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([float(v) for v in range(1, 21)], 95) == 19.0
    assert percentile([float(v) for v in range(1, 21)], 50) == 10.0


def test_the_table_sets_backends_side_by_side() -> None:
    skipped = BackendRun("qwen-1.5b", "path", skipped="not built: run make assets-llm")
    table = markdown([summarize(_run()), summarize(skipped)])
    lines = table.splitlines()
    assert lines[0] == "| | qwen | qwen-1.5b |"
    assert (
        "| samples (briefs × samples) | 6 | not built: run make assets-llm |" in lines
    )
    assert "| passes facts | 33% |  |" in lines
    assert "| … invents a number | 33% |  |" in lines
    assert "| **passes every check** | **33%** |  |" in lines
    assert "| s per draft: mean / median / p95 | 5.08 / 5.00 / 10.00 |  |" in lines
    assert all(line.count("|") == 4 for line in lines)


def test_examples_show_a_passing_a_failing_and_an_empty_draft() -> None:
    items = examples(_run(), [f"brief {i}" for i in range(6)])
    assert items[0] == "- passes (brief 0): “极光 X5 限时优惠，欢迎了解”"
    assert items[1].startswith("- fails (brief 1): “原价 899 的耳机” — facts: amounts")
    assert items[2] == "- empty (brief 3): raw “文案：”"


def test_a_run_reads_back_from_its_json() -> None:
    run = _run()
    assert BackendRun.from_dict(json.loads(json.dumps(asdict(run)))) == run
