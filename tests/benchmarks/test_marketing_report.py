from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from benchmarks.marketing_report import NO_CAMPAIGN, main, summarise
from marketing.store import CLICK, IMPRESSION, PURCHASE, Interaction, MarketingStore

COUNTS = [
    ("camp-a", "template", IMPRESSION, 10),
    ("camp-a", "template", CLICK, 3),
    ("camp-a", "model", IMPRESSION, 10),
    ("camp-a", "model", CLICK, 5),
    ("camp-a", "model", PURCHASE, 1),
    (None, "hybrid", IMPRESSION, 4),
    (None, "hybrid", PURCHASE, 2),
]


def test_rates_per_campaign_and_per_variant() -> None:
    campaigns = {e.name: e for e in summarise(COUNTS, "campaign")}
    assert campaigns["camp-a"].ctr == pytest.approx(8 / 20)
    assert campaigns["camp-a"].conversion == pytest.approx(1 / 20)
    assert campaigns[NO_CAMPAIGN].conversion == pytest.approx(0.5)
    variants = {e.name: e for e in summarise(COUNTS, "variant")}
    assert variants["model"].ctr == pytest.approx(0.5)
    assert variants["template"].conversion == 0.0
    with pytest.raises(ValueError):
        summarise(COUNTS, "day")


def test_report_prints_tables_and_writes_the_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    store = MarketingStore.from_url(url)
    at = datetime(2026, 11, 22)
    store.log(
        [
            Interaction("u1", "p1", IMPRESSION, "template", "camp-a", "t1", at),
            Interaction("u1", "p1", CLICK, "template", "camp-a", "t1", at),
        ]
    )
    png = tmp_path / "chart.png"
    assert main(["--database-url", url, "--png", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "| camp-a | 1 | 1 | 0 | 100.0% | 0.0% |" in printed
    assert png.read_bytes().startswith(b"\x89PNG")


def test_an_empty_store_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", f"sqlite:///{tmp_path / 'e.db'}"]) == 0
    assert "No impressions" in capsys.readouterr().out
