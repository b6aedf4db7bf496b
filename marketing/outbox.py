"""Writes that must not be lost while the marketing database is down.

A lead, an opt-out, a campaign sign-up or a deletion request is a :class:`Write`.
:func:`keep` stores it in the database, or, when the database cannot take it,
in the :class:`MarketingOutbox` (a :class:`outbox.queue.DurableQueue` file); only
when both fail is it lost, and the caller says so to the customer instead of
thanking them. :meth:`MarketingOutbox.replay` writes the queued entries to the
database in the order they were queued, once it is back; every write is
idempotent (a lead by its ``ref``), so a replay cut short and run again stores
nothing twice. Leads travel sealed: the outbox never holds a number in clear.
No Rasa.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from marketing.connection import StoreUnavailable
from marketing.lead_notifications import LeadHook
from marketing.leads import SealedLead
from marketing.store import MarketingStore
from outbox.queue import DurableQueue, Entry, QueueError

logger = logging.getLogger(__name__)

LEAD, OPT_OUT, SIGNUP, ERASE = (
    "marketing.lead",
    "marketing.opt_out",
    "marketing.signup",
    "marketing.erase",
)
# After a failed replay, queued entries wait this long before the next try.
RETRY_AFTER_S = 10.0
# An entry that is not a write we know (a bug, not an outage) waits a day.
MALFORMED_RETRY_S = 86_400.0
# Entries replayed per call; the rest follow on the next call.
REPLAY_BATCH = 200
# Errors that mean "the database cannot take it now", as opposed to a bug.
DATABASE_DOWN = (SQLAlchemyError, StoreUnavailable)


@dataclass(frozen=True)
class Write:
    """One write to the marketing store, in a form the outbox can keep."""

    kind: str
    user_id: str
    payload: dict[str, Any]

    @classmethod
    def lead(cls, lead: SealedLead) -> Write:
        """Stores a sealed lead."""
        return cls(LEAD, lead.user_id, lead.to_payload())

    @classmethod
    def opt_out(cls, user_id: str, at: datetime) -> Write:
        """Records an opt-out from marketing, made at ``at``."""
        return cls(OPT_OUT, user_id, {"user_id": user_id, "at": at.isoformat()})

    @classmethod
    def signup(cls, user_id: str, campaign_id: str, at: datetime) -> Write:
        """Registers the customer for a campaign, asked at ``at``."""
        payload = {"user_id": user_id, "campaign_id": campaign_id}
        return cls(SIGNUP, user_id, {**payload, "at": at.isoformat()})

    @classmethod
    def erase(cls, user_id: str) -> Write:
        """Deletes every row of the customer."""
        return cls(ERASE, user_id, {"user_id": user_id})

    def apply(self, store: MarketingStore, on_lead: LeadHook | None = None) -> None:
        """Performs the write on ``store``; doing it twice changes nothing.

        Args:
            store: The marketing store.
            on_lead: Runs after a lead is stored (the sales notification it is
                owed), also when it was stored before: a write cut short between
                the two is completed by its replay, and the hook is idempotent.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: The database failed.
            KeyError, TypeError, ValueError: The payload is not such a write.
        """
        p = self.payload
        if self.kind == LEAD:
            lead = SealedLead.from_payload(p)
            store.add_lead(lead)
            if on_lead is not None:
                on_lead(store, lead)
        elif self.kind == OPT_OUT:
            store.opt_out(p["user_id"], datetime.fromisoformat(p["at"]))
        elif self.kind == SIGNUP:
            at = datetime.fromisoformat(p["at"])
            store.join_campaign(p["user_id"], p["campaign_id"], at)
        elif self.kind == ERASE:
            store.erase_user(p["user_id"])
        else:
            raise ValueError(f"unknown marketing write {self.kind!r}")


class Kept(enum.Enum):
    """Where :func:`keep` put a write."""

    STORED = "stored in the database"
    QUEUED = "queued in the outbox"
    LOST = "neither"


class MarketingOutbox:
    """Marketing writes waiting for the database, in a durable queue.

    Every lead reaches the database through :meth:`Write.apply` with this
    outbox's ``on_lead``, whether it is written at once (:func:`keep`) or
    replayed after an outage: the one place that sees every stored lead, hence
    where the sales notification a lead is owed is recorded.

    Args:
        queue: The queue (its file may be shared with other kinds of entries).
        retry_after_s: How long entries wait after a failed replay.
        on_lead: Runs with each lead written to the database
            (:func:`marketing.sales_webhook.lead_hook`); ``None``: nothing.
    """

    def __init__(
        self,
        queue: DurableQueue,
        retry_after_s: float = RETRY_AFTER_S,
        on_lead: LeadHook | None = None,
    ) -> None:
        self.queue = queue
        self.on_lead = on_lead
        self._retry_after_s = retry_after_s

    def put(self, write: Write) -> int:
        """Queues ``write`` durably; its entry id.

        A deletion request is queued without the customer's id on the entry
        (only in its payload), so that the customer's own entries can be erased
        without erasing the request to erase them.

        Raises:
            QueueError: The outbox file cannot be written.
        """
        user_id = None if write.kind == ERASE else write.user_id
        return self.queue.put(write.kind, write.payload, user_id=user_id)

    def pending(self) -> int:
        """Marketing writes waiting (due or not).

        Raises:
            QueueError: The outbox file cannot be read.
        """
        kinds = (LEAD, OPT_OUT, SIGNUP, ERASE)
        return sum(self.queue.pending(kind) for kind in kinds)

    def erase_user(self, user_id: str) -> int:
        """Deletes the customer's queued writes; how many.

        Raises:
            QueueError: The outbox file cannot be written.
        """
        return self.queue.erase_user(user_id)

    def replay(self, store: MarketingStore) -> int:
        """Writes due entries to ``store``, oldest first; how many were written.

        Stops at the first database error (the rest keep their order and wait
        ``retry_after_s``); an entry that is no write we know is logged and set
        aside for a day. Never raises: it runs before other work that must go on.
        """
        try:
            entries = self.queue.due(REPLAY_BATCH, kinds=sorted(_KINDS))
        except QueueError:
            logger.exception("Cannot read the marketing outbox; replay skipped.")
            return 0
        written = 0
        for position, entry in enumerate(entries):
            write = Write(entry.kind, str(entry.payload.get("user_id")), entry.payload)
            try:
                write.apply(store, self.on_lead)
            except DATABASE_DOWN as e:
                waiting = entries[position:]
                logger.warning(
                    "Marketing store still unavailable; %d outbox entries wait (%s).",
                    len(waiting),
                    type(e).__name__,
                )
                self._set_aside(waiting, self._retry_after_s, repr(e))
                return written
            except (KeyError, TypeError, ValueError) as e:
                logger.error("Outbox entry %d is malformed: %r", entry.id, e)
                self._set_aside([entry], MALFORMED_RETRY_S, repr(e))
                continue
            if not self._done(entry):
                return written
            written += 1
        if written:
            logger.info("Replayed %d marketing writes from the outbox.", written)
        return written

    def _done(self, entry: Entry) -> bool:
        try:
            self.queue.done(entry.id)
        except QueueError:
            # Written but still queued: the next replay writes it again, which
            # changes nothing (every write is idempotent).
            logger.exception("Cannot remove outbox entry %d.", entry.id)
            return False
        return True

    def _set_aside(self, entries: list[Entry], delay_s: float, error: str) -> None:
        for entry in entries:
            try:
                self.queue.retry_later(entry.id, delay_s, error)
            except QueueError:
                logger.exception("Cannot postpone outbox entry %d.", entry.id)


_KINDS = frozenset({LEAD, OPT_OUT, SIGNUP, ERASE})


def keep(
    write: Write, store: Callable[[], MarketingStore], outbox: MarketingOutbox
) -> Kept:
    """Stores ``write`` in the database, else in the outbox.

    Queued writes are replayed first; while any still wait, ``write`` queues
    behind them rather than overtaking them (an opt-out must not land before
    the lead it follows). Blocking: call it in a worker thread.

    Args:
        write: What to store.
        store: Makes the store (raises when the database is down).
        outbox: Where it waits otherwise.

    Returns:
        Where it went; :attr:`Kept.LOST` when neither would take it.
    """
    try:
        target = store()
        if outbox.pending():
            outbox.replay(target)
        if not outbox.pending():
            write.apply(target, outbox.on_lead)
            return Kept.STORED
    except DATABASE_DOWN as e:
        logger.warning(
            "Marketing store unavailable (%s); %s goes to the outbox.",
            type(e).__name__,
            write.kind,
        )
    except QueueError:
        logger.exception(
            "Marketing outbox unreadable; writing %s directly.", write.kind
        )
        return _direct(write, store, outbox.on_lead)
    try:
        outbox.put(write)
    except QueueError:
        logger.exception(
            "%s lost: neither the database nor the outbox took it.", write.kind
        )
        return Kept.LOST
    return Kept.QUEUED


def _direct(
    write: Write, store: Callable[[], MarketingStore], on_lead: LeadHook | None
) -> Kept:
    try:
        write.apply(store(), on_lead)
    except DATABASE_DOWN:
        logger.exception(
            "%s lost: neither the database nor the outbox took it.", write.kind
        )
        return Kept.LOST
    return Kept.STORED
