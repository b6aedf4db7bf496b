"""``aurora-marketing leads``: the export and ``leads notify`` from the shell."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from marketing.cli import main
from marketing.lead_notifications import LeadNotifications
from marketing.leads import Lead, seal
from marketing.store import MarketingStore
from privacy.cipher import DataCipher, generate_key
from tests.marketing.fixtures import POSTGRES_URL, T0, TEST_DATA_KEY

NUMBER = "13812345678"


def add(store: MarketingStore, cipher: DataCipher, ref: str, score: float) -> None:
    lead = Lead(f"u-{ref}", "王先生", NUMBER, True, False, score, None, T0, T0, ref=ref)
    store.add_lead(seal(lead, cipher, T0))


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_csv_export_masks_numbers(
    marketing_db: MarketingStore, cipher: DataCipher
) -> None:
    add(marketing_db, cipher, "a", 0.4)
    add(marketing_db, cipher, "b", 0.8)
    code, out = run("leads", "--min-score", "0.5", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["ref"], r["phone_masked"], r["score"]) for r in rows] == [
        ("b", "138****5678", "0.8")
    ]
    assert NUMBER not in out


def test_json_export_is_one_valid_array(
    marketing_db: MarketingStore, cipher: DataCipher
) -> None:
    add(marketing_db, cipher, "a", 0.4)
    add(marketing_db, cipher, "b", 0.8)
    code, out = run("leads", "--format", "json")
    assert code == 0
    assert [r["ref"] for r in json.loads(out)] == ["b", "a"]
    assert json.loads(run("leads", "--format", "json", "--min-score", "1")[1]) == []


def test_reveal_phones_with_the_key(
    marketing_db: MarketingStore, cipher: DataCipher, tmp_path: Path
) -> None:
    add(marketing_db, cipher, "a", 0.7)
    code, out = run("leads", "--reveal-phones")
    assert code == 0  # AURORA_DATA_KEY is set by the fixture
    assert next(csv.DictReader(io.StringIO(out)))["phone"] == NUMBER
    key_file = tmp_path / "key"
    key_file.write_text(TEST_DATA_KEY + "\n")
    env = {"AURORA_DATA_KEY": ""}
    code, out = run("leads", "--reveal-phones", "--key-file", str(key_file), env=env)
    assert code == 0
    assert NUMBER in out


def test_reveal_phones_without_or_with_a_wrong_key_is_one_clear_line(
    marketing_db: MarketingStore, cipher: DataCipher, tmp_path: Path
) -> None:
    add(marketing_db, cipher, "a", 0.7)
    # The store opens with the development key file; revealing needs the key given.
    env = {"AURORA_DATA_KEY": "", "AURORA_DATA_KEY_FILE": str(tmp_path / "dev.key")}
    code, out = run("leads", "--reveal-phones", env=env)
    assert code == 2
    assert "needs the data key: set AURORA_DATA_KEY or pass --key-file" in out
    wrong = tmp_path / "wrong"
    wrong.write_text(generate_key())
    code, out = run("leads", "--reveal-phones", "--key-file", str(wrong))
    assert code == 1
    assert out.startswith("Error: the data key does not open lead a")
    assert "ref" not in out  # nothing half-written before the error
    assert "Traceback" not in out


def test_export_from_the_real_postgresql(
    postgres_database: str, cipher: DataCipher, marketing_db: MarketingStore
) -> None:
    url = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{postgres_database}"
    store = MarketingStore.from_url(url, cipher=cipher)
    add(store, cipher, "pg", 0.9)
    store.engine.dispose()
    code, out = run("--database-url", url, "leads", "--format", "json")
    assert code == 0
    assert [r["ref"] for r in json.loads(out)] == ["pg"]


def test_notify_without_a_webhook_says_so(marketing_db: MarketingStore) -> None:
    code, out = run("leads", "notify")
    assert code == 1
    assert "AURORA_SALES_WEBHOOK_URL is not set" in out


def test_notify_posts_due_leads_and_reports(
    marketing_db: MarketingStore, cipher: DataCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(marketing_db, cipher, "a", 0.9)
    LeadNotifications(marketing_db).enqueue(
        seal(Lead("u-a", "王", NUMBER, True, False, 0.9, ref="a"), cipher, T0)
    )
    # Nothing listens on port 9 of loopback: the post fails and waits for a retry.
    monkeypatch.setenv("AURORA_SALES_WEBHOOK_URL", "http://127.0.0.1:9/leads")
    monkeypatch.setenv("AURORA_SALES_WEBHOOK_SECRET", "s3cret")
    code, out = run("leads", "notify")
    assert code == 0
    assert out.splitlines() == [
        "sent 0, retry later 1, failed 0",
        "notifications: pending 1",
    ]


def test_a_name_that_reads_as_a_formula_stays_text_in_the_csv(
    marketing_db: MarketingStore, cipher: DataCipher
) -> None:
    lead = Lead("u-f", '=HYPERLINK("x")', NUMBER, True, False, 0.9, ref="f")
    marketing_db.add_lead(seal(lead, cipher, T0))
    code, out = run("leads", "--format", "csv")
    assert code == 0
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["name"] == '\'=HYPERLINK("x")'
