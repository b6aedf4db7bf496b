"""The leads export: consent, order, masking and the key, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketing.lead_export import (
    MASKED_COLUMNS,
    REVEALED_COLUMNS,
    LeadExportError,
    LeadQuery,
    columns,
    export_leads,
)
from marketing.leads import Lead, seal
from marketing.store import MarketingStore
from privacy.cipher import DataCipher, generate_key
from tests.marketing.fixtures import T0


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> MarketingStore:
    name = "marketing_db" if request.param == "sqlite" else "postgres_db"
    result: MarketingStore = request.getfixturevalue(name)
    return result


def add(
    store: MarketingStore,
    cipher: DataCipher,
    ref: str,
    score: float,
    hours: int = 0,
    consent: bool = True,
    phone: str = "13812345678",
) -> None:
    lead = Lead(
        f"user-{ref}", f"客户{ref}", phone, consent, ref.endswith("m"), score,
        "double12", T0, T0, ref=ref,
    )  # fmt: skip
    store.add_lead(seal(lead, cipher, T0 + timedelta(hours=hours)))


def test_only_consenting_leads_best_score_then_newest(
    store: MarketingStore, cipher: DataCipher
) -> None:
    add(store, cipher, "a", 0.5, hours=1)
    add(store, cipher, "b", 0.9, hours=0)
    add(store, cipher, "c", 0.5, hours=3)
    add(store, cipher, "d", 0.99, consent=False)
    rows = list(export_leads(store, LeadQuery()))
    assert [r["ref"] for r in rows] == ["b", "c", "a"]


def test_min_score_and_since_filter(store: MarketingStore, cipher: DataCipher) -> None:
    add(store, cipher, "old", 0.8, hours=0)
    add(store, cipher, "new", 0.8, hours=48)
    add(store, cipher, "low", 0.3, hours=48)
    query = LeadQuery(min_score=0.6, since=T0 + timedelta(days=1))
    assert [r["ref"] for r in export_leads(store, query)] == ["new"]


def test_numbers_are_masked_without_the_key(
    store: MarketingStore, cipher: DataCipher
) -> None:
    add(store, cipher, "am", 0.7)
    [row] = export_leads(store, LeadQuery())
    assert tuple(row) == MASKED_COLUMNS == columns(revealed=False)
    assert row == {
        "ref": "am",
        "name": "客户am",
        "phone_masked": "138****5678",
        "marketing_consent": True,
        "score": 0.7,
        "campaign": "double12",
        "created_at": "2026-11-22T10:00:00",
    }
    assert "13812345678" not in repr(row)


def test_the_key_reveals_the_numbers(store: MarketingStore, cipher: DataCipher) -> None:
    add(store, cipher, "a", 0.7, phone="13900001111")
    [row] = export_leads(store, LeadQuery(), cipher)
    assert tuple(row) == REVEALED_COLUMNS
    assert row["phone"] == "13900001111"


def test_a_wrong_key_is_a_clear_error(
    store: MarketingStore, cipher: DataCipher
) -> None:
    add(store, cipher, "a", 0.7)
    with pytest.raises(LeadExportError, match="data key does not open lead a"):
        list(export_leads(store, LeadQuery(), DataCipher(generate_key())))


def test_rows_are_streamed_from_an_open_cursor(
    store: MarketingStore, cipher: DataCipher
) -> None:
    for n in range(5):
        add(store, cipher, f"r{n}", n / 10)
    held: list[int] = []
    sa.event.listen(store.engine, "checkout", lambda *_: held.append(1))
    sa.event.listen(store.engine, "checkin", lambda *_: held.append(-1))
    rows = export_leads(store, LeadQuery())
    assert next(rows)["ref"] == "r4"
    # Rows come while the cursor is open, not from a list read beforehand.
    assert sum(held) == 1
    assert [r["ref"] for r in rows] == ["r3", "r2", "r1", "r0"]
    assert sum(held) == 0
