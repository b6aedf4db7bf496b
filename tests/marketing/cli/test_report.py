"""``aurora-marketing report`` over a seeded SQLite store."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from marketing.cli import main
from marketing.store import MarketingStore, utc_now
from tests.marketing.seeding import Clock, click, order, show

CAMPAIGNS_YML = """
campaigns:
  - id: double12
    title: 双12预约抽奖提醒
    url: https://shop.example/double12
    cost: 100
    variants:
      - {name: plain, message: {type: text, text: "plain {link}"}}
      - {name: urgent, message: {type: text, text: "urgent {link}"}}
"""


@pytest.fixture
def seeded(
    marketing_db: MarketingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> MarketingStore:
    """Yesterday: two impressions, one click and one order of 150."""
    return _seed(marketing_db.engine.url.render_as_string(), tmp_path, monkeypatch)


def _seed(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MarketingStore:
    path = tmp_path / "campaigns.yml"
    path.write_text(CAMPAIGNS_YML, encoding="utf-8")
    monkeypatch.setenv("AURORA_CAMPAIGNS_PATH", str(path))
    clock = Clock(utc_now() - timedelta(days=1))
    store = MarketingStore.from_url(url, clock=clock)
    show(store, "u1", "t1", "double12", "plain")
    show(store, "u2", "t2", "double12", "urgent")
    clock.advance(minutes=5)
    click(store, "t1")
    order(store, "SO-1", "t1", "150")
    return store


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["report", *args])


def test_the_table_shows_each_variant_the_total_and_the_verdict(
    seeded: MarketingStore,
) -> None:
    result = _run()
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "double12 (双12预约抽奖提醒)",
        "variant  sent  impressions  clicks            CTR [95% CI]  conversions"
        "     conversion [95% CI]     revenue    cost    ROI",
        "plain       0            1       1  100.0% [20.7%, 100.0%]            1"
        "  100.0% [20.7%, 100.0%]  150.00 CNY   50.00  +200%",
        "urgent      0            1       0      0.0% [0.0%, 79.3%]            0"
        "      0.0% [0.0%, 79.3%]    0.00 CNY   50.00  -100%",
        "total       0            2       1     50.0% [9.5%, 90.5%]            1"
        "     50.0% [9.5%, 90.5%]  150.00 CNY  100.00   +50%",
        "A/B on conversion, control plain: no winner yet: plain has 1 of the 100 "
        "recipients per arm needed before any call",
    ]


def test_json_and_csv(seeded: MarketingStore) -> None:
    data = json.loads(_run("double12", "--format", "json").output)
    assert [r["campaign"] for r in data] == ["double12"]
    assert data[0]["total"]["revenue"] == "150.00"
    assert data[0]["variants"][0]["roi"] == pytest.approx(2.0)
    rows = list(csv.DictReader(io.StringIO(_run("--format", "csv").output)))
    assert [(r["variant"], r["clicks"], r["revenue"], r["cost"]) for r in rows] == [
        ("plain", "1", "150.00", "50.00"),
        ("urgent", "0", "0.00", "50.00"),
        ("*", "1", "150.00", "100.00"),
    ]
    assert rows[0]["verdict"].startswith("no winner yet")


def test_since_counts_from_a_day(seeded: MarketingStore) -> None:
    tomorrow = (utc_now() + timedelta(days=1)).date().isoformat()
    data = json.loads(_run("--since", tomorrow, "--format", "json").output)
    assert data[0]["total"]["impressions"] == 0
    assert _run("--since", "yesterday").exit_code == 2


def test_an_unknown_campaign_is_one_clear_line(seeded: MarketingStore) -> None:
    result = _run("double12", "nope")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: no campaign nope: neither declared in "
        f"{os.environ['AURORA_CAMPAIGNS_PATH']} nor seen in the store"
    ]


def test_a_broken_campaigns_file_or_database_is_one_clear_line(
    marketing_db: MarketingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("campaigns: 3\n", encoding="utf-8")
    monkeypatch.setenv("AURORA_CAMPAIGNS_PATH", str(broken))
    result = _run()
    assert result.exit_code == 1
    assert result.output.startswith("Error: campaigns: ")
    assert len(result.output.strip().splitlines()) == 1


def test_help_and_an_empty_store(
    marketing_db: MarketingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "no winner yet" in _run("--help").output
    empty = tmp_path / "none.yml"
    empty.write_text("campaigns: []\n", encoding="utf-8")
    monkeypatch.setenv("AURORA_CAMPAIGNS_PATH", str(empty))
    assert _run().output == "No campaign declared and nothing logged yet.\n"


def test_the_report_of_a_postgresql_store(
    marketing_db: MarketingStore,
    postgres_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"postgresql://postgres@127.0.0.1:5432/{postgres_database}"
    store = _seed(url, tmp_path, monkeypatch)
    try:
        result = CliRunner().invoke(
            main, ["--database-url", url, "report", "--format", "json"]
        )
    finally:
        store.engine.dispose()
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    assert (report["total"]["clicks"], report["total"]["revenue"]) == (1, "150.00")
