"""What Rasa's event stream records in the marketing store: one mapping, one writer.

Both ends of the stream use this module, so they record exactly the same rows:
the activity broker inside Rasa (:mod:`channels.activity_broker`, through
:mod:`marketing.activity_log`) and the RabbitMQ consumer of a cluster
(:mod:`marketing.event_consumer`). :func:`recorded_from_event` maps one event:

- ``user``: an :class:`~marketing.activity.ActivityRecord` (``activity``);
- ``action`` (but Rasa's bookkeeping): an
  :class:`~marketing.action_runs.ActionRecord` (``action_runs``);
- ``bot`` with a follow-up marker: a :class:`~marketing.followups.Followup`
  (a click or purchase in ``interactions``);
- ``bot`` answering a deletion request: an :class:`Erasure` of what the stream
  wrote of the customer (the action erased the store, but the request's own
  events reach the stream after it).

:func:`write_recorded` writes a batch in one transaction, in order, every row
keyed by its event so that an event delivered twice is stored once. No Rasa.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from catalog.errors import CatalogError
from catalog.loader import load_catalog
from marketing.action_runs import ActionRecord, action_from_event
from marketing.activity import (
    ActivityRecord,
    CategorySource,
    erase_request_of,
    record_from_event,
)
from marketing.followups import Followup, followup_from_event, record_followups
from marketing.store import MarketingStore

logger = logging.getLogger(__name__)

Record = ActivityRecord | ActionRecord | Followup
# The record classes, for isinstance().
RECORD_TYPES = (ActivityRecord, ActionRecord, Followup)


@dataclass(frozen=True)
class Erasure:
    """Delete what the event stream wrote of ``user_id``."""

    user_id: str


Recorded = Record | Erasure

# The tables the stream writes by event id, and what erasing a customer clears
# (follow-ups are copies of impressions, erased with them by the action).
_KEYED_TABLES: dict[type[ActivityRecord | ActionRecord], str] = {
    ActivityRecord: "activity",
    ActionRecord: "action_runs",
}
# Kinds of set-aside records in the durable queue (shared with the marketing
# outbox file); "marketing.activity" is the kind records always had.
SPILL_KINDS: dict[type[Record], str] = {
    ActivityRecord: "marketing.activity",
    ActionRecord: "marketing.activity.action",
    Followup: "marketing.activity.followup",
}
_FROM_PAYLOAD: dict[str, Callable[[Mapping[str, Any]], Record]] = {
    "marketing.activity": ActivityRecord.from_payload,
    "marketing.activity.action": ActionRecord.from_payload,
    "marketing.activity.followup": Followup.from_payload,
}


def recorded_from_event(
    event: Mapping[str, Any], categories: CategorySource | None = None
) -> Recorded | None:
    """What to record of one Rasa event; ``None`` for the many that say nothing.

    Args:
        event: ``{"sender_id": ..., **Event.as_dict()}``, as the event broker
            gets it (and RabbitMQ carries it, JSON-encoded).
        categories: Maps entity values to canonical categories (the catalog).
    """
    if (activity := record_from_event(event, categories)) is not None:
        return activity
    if (action := action_from_event(event)) is not None:
        return action
    if (user_id := erase_request_of(event)) is not None:
        return Erasure(user_id)
    return followup_from_event(event)


def catalog_categories() -> CategorySource | None:
    """The catalog's categories for :func:`recorded_from_event`, if it loads."""
    try:
        return load_catalog()
    except (OSError, CatalogError) as e:  # categories then as NLU tagged them
        logger.warning("Catalog not loaded (%s); categories not normalised.", e)
        return None


def spill_kind(record: Record) -> str:
    """The durable queue's kind for a set-aside ``record``."""
    return SPILL_KINDS[type(record)]


def record_from_payload(kind: str, payload: Mapping[str, Any]) -> Record:
    """The record a set-aside entry of ``kind`` holds.

    Raises:
        KeyError, TypeError, ValueError: Not a record this module set aside.
    """
    return _FROM_PAYLOAD[kind](payload)


def write_recorded(
    connection: Connection, store: MarketingStore, items: Sequence[Recorded]
) -> None:
    """Writes ``items`` in order in ``connection``'s transaction.

    An erasure deletes what came before it; records already stored (the same
    event again) are skipped.
    """
    records: list[Record] = []
    for item in items:
        if isinstance(item, Erasure):
            _insert(connection, store, records)
            records = []
            erase_recorded(connection, store, item.user_id)
        else:
            records.append(item)
    _insert(connection, store, records)


def erase_recorded(connection: Connection, store: MarketingStore, user_id: str) -> None:
    """Deletes the rows the event stream keeps of ``user_id``."""
    for name in _KEYED_TABLES.values():
        table = store.table(name)
        connection.execute(delete(table).where(table.c.user_id == user_id))


def _insert(
    connection: Connection, store: MarketingStore, records: Sequence[Record]
) -> None:
    for kind, name in _KEYED_TABLES.items():
        rows = [r.to_row() for r in records if isinstance(r, kind)]
        if rows:
            insert_new(connection, store.table(name), rows)
    followups = [r for r in records if isinstance(r, Followup)]
    if followups:
        record_followups(connection, store, followups)


def insert_new(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Inserts the rows whose ``event_id`` the table does not hold yet."""
    # One row per event within the batch too (a re-delivery in the same batch).
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["event_id"], row)
    rows = list(unique.values())
    dialect = connection.dialect.name
    if dialect in ("postgresql", "sqlite"):
        module: Any = postgresql if dialect == "postgresql" else sqlite
        insert = module.insert(table).on_conflict_do_nothing(
            index_elements=["event_id"]
        )
        connection.execute(insert, rows)
        return
    ids = [r["event_id"] for r in rows]
    known = select(table.c.event_id).where(table.c.event_id.in_(ids))
    stored = {r[0] for r in connection.execute(known)}
    if new := [r for r in rows if r["event_id"] not in stored]:
        connection.execute(table.insert(), new)
