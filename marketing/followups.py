"""Follow-ups on what was shown: a question about, or an order of, a recommended item.

A product action that answers about an item tells it on its reply: it passes
:func:`followup_marker` to ``dispatcher.utter_message``, and Rasa keeps the marker
in the ``bot`` event's metadata. The event stream (the activity broker in one
process, ``aurora-marketing consume-events`` in a cluster) turns the event into
a :class:`Followup` (:func:`followup_from_event`), and :func:`record_followups`
logs it as a click or purchase against the latest impression of that item shown
within :data:`FOLLOWUP_WINDOW`, once per impression. So the turn itself writes
nothing for it: the analytics are off the hot path.

A purchase link carries the impression's tracking id, so the action still looks
the impression up while the customer waits (and names it in the marker); only
the write moves. No Rasa.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from marketing.activity import event_time, sender_of
from marketing.store import CLICK, IMPRESSION, PURCHASE, MarketingStore

# The key of the marker in a reply's (and so the bot event's) metadata.
FOLLOWUP_KEY = "aurora_followup"
# A follow-up this long after a recommendation still counts as its click.
FOLLOWUP_WINDOW = timedelta(hours=24)
_EVENTS = frozenset({CLICK, PURCHASE})
# Widths of marketing.schema's interactions columns.
_MAX_ITEM_ID, _MAX_TRACKING_ID = 64, 32


def followup_marker(
    item_id: str, event: str, tracking_id: str | None = None
) -> dict[str, dict[str, str]]:
    """Keyword arguments for ``utter_message`` that mark a reply as a follow-up.

    Args:
        item_id: The catalog id of the item followed up.
        event: ``click`` (asked about it) or ``purchase`` (asked to buy it).
        tracking_id: The impression it follows, when the action knows it.
    """
    marker = {"item_id": item_id, "event": event}
    if tracking_id:
        marker["tracking_id"] = tracking_id
    return {FOLLOWUP_KEY: marker}


@dataclass(frozen=True)
class Followup:
    """A follower followed up on an item at ``created_at`` (UTC, naive)."""

    user_id: str
    item_id: str
    event: str
    created_at: datetime
    tracking_id: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready form for the durable queue."""
        return {**asdict(self), "created_at": self.created_at.isoformat()}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Followup:
        """The follow-up :meth:`to_payload` gave.

        Raises:
            KeyError, TypeError, ValueError: ``payload`` is not such a follow-up.
        """
        values = dict(payload)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        return cls(**values)


def followup_from_event(event: Mapping[str, Any]) -> Followup | None:
    """The follow-up a ``bot`` event's marker tells of; ``None`` without one."""
    user_id = sender_of(event)
    metadata = event.get("metadata")
    if event.get("event") != "bot" or user_id is None:
        return None
    marker = metadata.get(FOLLOWUP_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(marker, Mapping):
        return None
    item_id, kind = marker.get("item_id"), marker.get("event")
    tracking_id = marker.get("tracking_id")
    if not isinstance(item_id, str) or not 0 < len(item_id) <= _MAX_ITEM_ID:
        return None
    if kind not in _EVENTS:
        return None
    if tracking_id is not None and (
        not isinstance(tracking_id, str) or len(tracking_id) > _MAX_TRACKING_ID
    ):
        return None
    return Followup(user_id, item_id, str(kind), event_time(event), tracking_id)


def record_followups(
    connection: Connection, store: MarketingStore, followups: Sequence[Followup]
) -> int:
    """Logs each follow-up against its impression, once per impression and kind.

    Without an impression (never recommended, out of the window, erased) a
    follow-up logs nothing; a follow-up that arrives again logs nothing more.

    Returns:
        How many clicks and purchases were logged.
    """
    table = store.table("interactions")
    logged = 0
    for followup in followups:
        query = select(table).where(
            table.c.user_id == followup.user_id, table.c.event == IMPRESSION
        )
        if followup.tracking_id is not None:
            query = query.where(table.c.tracking_id == followup.tracking_id)
        else:
            query = query.where(
                table.c.item_id == followup.item_id,
                table.c.created_at >= followup.created_at - FOLLOWUP_WINDOW,
                table.c.created_at <= followup.created_at,
            )
        shown = connection.execute(query.order_by(table.c.id.desc()).limit(1))
        impression = shown.mappings().first()
        if impression is None:
            continue
        done = select(table.c.id).where(
            table.c.tracking_id == impression["tracking_id"],
            table.c.event == followup.event,
        )
        if connection.execute(done.limit(1)).first() is not None:
            continue
        row = {k: impression[k] for k in impression if k != "id"}
        row.update(event=followup.event, created_at=followup.created_at)
        connection.execute(table.insert(), [row])
        logged += 1
    return logged
