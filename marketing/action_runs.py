"""The actions the bot ran for a follower, one row of ``action_runs`` per action.

Rasa publishes an ``action`` event for every action it runs; :func:`action_from_event`
turns one into an :class:`ActionRecord` (who, which action, when), so reports can
count what followers had the bot do per day next to their messages
(:mod:`marketing.daily_activity`). Rasa's own bookkeeping actions, run on every
turn whatever the follower wanted, are left out. No Rasa.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from marketing.activity import event_id, event_time, sender_of

# Run by Rasa on every turn (waiting for the next message, filling slots): they
# say nothing about the follower and would double every count.
IGNORED_ACTIONS = frozenset({"action_listen", "action_extract_slots"})
# The width of marketing.schema's action_runs.action column.
MAX_ACTION = 64


@dataclass(frozen=True)
class ActionRecord:
    """One row of the ``action_runs`` table (times in UTC, naive)."""

    # A hash of the Rasa event: the same event is stored once.
    event_id: str
    user_id: str
    action: str
    created_at: datetime

    def to_row(self) -> dict[str, Any]:
        """The row for the ``action_runs`` table."""
        return asdict(self)

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready form for the durable queue."""
        return {**asdict(self), "created_at": self.created_at.isoformat()}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ActionRecord:
        """The record :meth:`to_payload` gave.

        Raises:
            KeyError, TypeError, ValueError: ``payload`` is not such a record.
        """
        values = dict(payload)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        return cls(**values)


def action_from_event(event: Mapping[str, Any]) -> ActionRecord | None:
    """The row of an ``action`` event (as the event broker receives it).

    Args:
        event: ``{"sender_id": ..., **ActionExecuted.as_dict()}``.

    Returns:
        The record, or ``None`` for other events, Rasa's bookkeeping actions and
        end-to-end bot texts without an action name.
    """
    user_id = sender_of(event)
    name = event.get("name")
    if event.get("event") != "action" or user_id is None:
        return None
    if not isinstance(name, str) or not name or name in IGNORED_ACTIONS:
        return None
    return ActionRecord(
        event_id=event_id(event),
        user_id=user_id,
        action=name[:MAX_ACTION],
        created_at=event_time(event),
    )
