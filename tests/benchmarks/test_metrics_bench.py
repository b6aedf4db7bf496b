"""The metrics benchmark's measurements run (tiny sizes) and report shares."""

from __future__ import annotations

import pytest

from benchmarks.metrics_bench import Costs, main, observe_actions, observe_turns, scrape


def test_observations_and_scrapes_are_measured() -> None:
    assert observe_turns(50) > 0
    assert observe_actions(50, actions=5) > 0
    durations, body = scrape(3)
    assert len(durations) == 3
    assert b"aurora_stage_seconds_bucket" in body
    assert b"_created" not in body  # disabled: a quarter of a scrape for nothing


def test_shares_are_amortised_over_a_scrape_interval() -> None:
    costs = Costs(
        per_turn_s=10e-6,
        per_action_s=5e-6,
        scrape_p50_s=4.5e-3,
        scrape_p95_s=6e-3,
        scrape_bytes=2048,
        series=100,
        turn_s=1e-3,
    )
    table = costs.rows(rate=30, interval_s=15, turn_ms=100)
    # 10 µs of 1 ms; 4.5 ms over 450 turns = 10 µs, 1 % of 1 ms.
    assert "| observations / stub-agent turn | 1.000% |" in table
    assert "/ stub-agent turn | 1.0000% |" in table
    assert "| **total / stub-agent turn** | **2.000%** |" in table
    assert "| **total / 100 ms turn** | **0.020%** |" in table


def test_main_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--turns", "20", "--scrapes", "2", "--requests", "5", "--turn-ms", "90"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "| observations of one turn (channel) |" in out
    assert "total / 90 ms turn" in out
