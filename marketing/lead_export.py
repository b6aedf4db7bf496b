"""Leads for the sales team: the consenting ones, best first, streamed.

:func:`export_leads` yields the leads whose customer agreed to be called back
(``consent``), at or above a score, sorted by score (highest first) and then by
age (newest first). Rows come from a server-side cursor as they are read, so an
export of a million leads holds one batch in memory, not the whole list.

The phone number is masked (``138****5678``) unless the caller passes the data
cipher: revealing numbers is an explicit act of the operator who holds the key.
No Rasa.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from marketing.store import MarketingStore
from privacy.cipher import CipherError, DataCipher

# Rows fetched from the database per round trip while streaming.
BATCH_ROWS = 500
# The columns of an export, in order; ``phone`` or ``phone_masked`` third.
MASKED_COLUMNS = (
    "ref",
    "name",
    "phone_masked",
    "marketing_consent",
    "score",
    "campaign",
    "created_at",
)
REVEALED_COLUMNS = tuple("phone" if c == "phone_masked" else c for c in MASKED_COLUMNS)


class LeadExportError(RuntimeError):
    """The export cannot go on; the message says why (e.g. a wrong data key)."""


@dataclass(frozen=True)
class LeadQuery:
    """Which leads to export.

    Attributes:
        min_score: The lowest lead score included (0..1).
        since: Only leads created at or after this time (UTC, naive).
    """

    min_score: float = 0.0
    since: datetime | None = None


def columns(revealed: bool) -> tuple[str, ...]:
    """The column names of an export, with the number in clear or masked."""
    return REVEALED_COLUMNS if revealed else MASKED_COLUMNS


def export_leads(
    store: MarketingStore, query: LeadQuery, cipher: DataCipher | None = None
) -> Iterator[dict[str, object]]:
    """The leads ``query`` selects, one dict per lead, keys :func:`columns`.

    Args:
        store: The marketing store.
        query: The minimum score and the earliest creation time.
        cipher: Decrypts the numbers; ``None`` exports the masked ones.

    Yields:
        One row per lead, score descending then newest first.

    Raises:
        LeadExportError: ``cipher`` does not hold the key the leads were sealed
            with (raised at the first lead it cannot open).
        sqlalchemy.exc.SQLAlchemyError: The database failed.
    """
    t = store.table("leads")
    statement = (
        select(
            t.c.ref,
            t.c.name,
            t.c.phone_encrypted,
            t.c.phone_masked,
            t.c.marketing_consent,
            t.c.score,
            t.c.campaign,
            t.c.created_at,
        )
        .where(t.c.consent.is_(True), t.c.score >= query.min_score)
        .order_by(t.c.score.desc(), t.c.created_at.desc(), t.c.id.desc())
    )
    if query.since is not None:
        statement = statement.where(t.c.created_at >= query.since)
    with store.engine.connect() as connection:
        result = connection.execution_options(
            stream_results=True, yield_per=BATCH_ROWS
        ).execute(statement)
        for row in result.mappings():
            yield _row(row, cipher)


def _row(row: RowMapping, cipher: DataCipher | None) -> dict[str, object]:
    get = row.__getitem__
    out: dict[str, object] = {"ref": get("ref"), "name": get("name")}
    if cipher is None:
        out["phone_masked"] = get("phone_masked")
    else:
        try:
            out["phone"] = cipher.decrypt(get("phone_encrypted"))
        except CipherError as e:
            raise LeadExportError(
                f"the data key does not open lead {get('ref')} ({e}); "
                "check AURORA_DATA_KEY or --key-file"
            ) from e
    out["marketing_consent"] = bool(get("marketing_consent"))
    out["score"] = round(float(get("score")), 4)
    out["campaign"] = get("campaign")
    created: datetime = get("created_at")
    out["created_at"] = created.isoformat(timespec="seconds")
    return out
