"""The webhook benchmark's measurements run (tiny sizes) and summarise correctly."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.webhook_bench import codec, http, main, summarise
from benchmarks.webhook_e2e import EndToEndReport


def test_summarise() -> None:
    timing = summarise("x", [0.001] * 19 + [0.1], wall_s=2.0)
    assert timing.p50_ms == 1.0
    assert timing.p95_ms == 100.0
    assert timing.per_s == 10.0
    assert timing.row().startswith("| x | 1.00 | 100.00 |")


def test_codec_runs_in_both_modes() -> None:
    assert codec(20, aes=False).n == 20
    assert codec(20, aes=True).n == 20


async def test_http_runs_in_both_modes() -> None:
    assert (await http(20, 4, aes=False)).n == 20
    assert (await http(20, 4, aes=True)).n == 20


def test_end_to_end_report() -> None:
    report = EndToEndReport(
        latencies_s=[0.2, 0.4, 6.0], passive=2, through_api=1, sent=3
    )
    assert not report.ok  # one answer later than 5 s
    assert "| answers later than 5 s | 1 |" in report.markdown()
    assert EndToEndReport(latencies_s=[0.1], passive=1, sent=1).ok


def test_a_missing_model_stops_the_benchmark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--skip-overhead", "--model", str(tmp_path / "gone.tar.gz")])
    assert stopped.value.code == 2
    assert "no such model archive" in capsys.readouterr().err
