"""Writes activity records in the background; none lost while the database is down.

Rasa calls the event broker on its event loop, so :meth:`ActivityLog.add` only
puts the record (any record of :mod:`marketing.event_records`: activity, an
action run, a follow-up) in a bounded in-memory buffer. One thread takes batches
from it and writes them (:func:`~marketing.event_records.write_recorded`), each
write bounded by ``write_timeout_s`` (a hung database counts as down). A batch
the database will not take is set aside in a :class:`outbox.queue.DurableQueue`
(one transaction per batch and kind) and replayed once the database answers
again. Records carry the id of their Rasa event and are inserted with "on
conflict do nothing", so a write that timed out but landed after all, replayed
again, is stored once.

Erasure: a customer's deletion request (:meth:`ActivityLog.erase_user`) is
handled in order with the records before it, removes their set-aside records,
and is itself set aside while the database is down. No Rasa.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from marketing.event_records import (
    RECORD_TYPES,
    SPILL_KINDS,
    Erasure,
    Record,
    Recorded,
    erase_recorded,
    record_from_payload,
    spill_kind,
    write_recorded,
)
from marketing.outbox import DATABASE_DOWN
from marketing.store import MarketingStore
from outbox.queue import DurableQueue, Entry, QueueError
from telemetry import metrics

logger = logging.getLogger(__name__)

# Kinds of entries in the durable queue (shared with the marketing outbox file):
# activity rows, erasures; action runs and follow-ups have kinds of their own.
SPILLED, SPILLED_ERASE = "marketing.activity", "marketing.activity.erase"
_REPLAYED = (*SPILL_KINDS.values(), SPILLED_ERASE)
# Records per insert, and per replay from the durable queue.
BATCH_SIZE = 500
# Longest wait for a batch to fill before it is written.
FLUSH_INTERVAL_S = 0.5
# Records buffered in memory; beyond it add() sets records aside at once.
MAX_BUFFERED = 10_000
# After a failed or timed-out write the database is left alone this long.
RETRY_AFTER_S = 10.0
# Writes that timed out and still wait on a hung connection; with this many the
# database counts as down without a new try (each holds a thread and a connection).
MAX_STUCK = 3


@dataclass(frozen=True)
class _Erase:
    user_id: str


@dataclass(frozen=True)
class _Barrier:
    reached: threading.Event


_STOP = object()


@dataclass
class ActivityStats:
    """What the log did so far (counts of records)."""

    written: int = 0
    spilled: int = 0
    replayed: int = 0
    lost: int = 0


class ActivityLog:
    """A background writer of the event stream's records.

    Args:
        store: Makes the store; raises while the database is down
            (``marketing.connection.LazyStore``).
        spill: Where records wait while the database is down.
        on_hung: Called when a write timed out (``LazyStore.fail``).
        write_timeout_s: Longest wait for one database write.
        batch_size: Records per insert.
        flush_interval_s: Longest wait for a batch to fill.
        max_buffered: Records kept in memory at most.
        retry_after_s: Pause after a failed write before the next try.
        monotonic: Seconds (injectable for tests).
    """

    def __init__(
        self,
        store: Callable[[], MarketingStore],
        spill: DurableQueue,
        on_hung: Callable[[], object] | None = None,
        write_timeout_s: float = 3.0,
        batch_size: int = BATCH_SIZE,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        max_buffered: int = MAX_BUFFERED,
        retry_after_s: float = RETRY_AFTER_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._spill = spill
        self._on_hung = on_hung
        self._write_timeout_s = write_timeout_s
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._retry_after_s = retry_after_s
        self._monotonic = monotonic
        self._buffer: queue.Queue[object] = queue.Queue(max_buffered)
        self._thread = threading.Thread(
            target=self._run, name="activity-log", daemon=True
        )
        self._stuck: list[threading.Thread] = []
        self._down_until = 0.0
        # True until a replay found the durable queue empty (it may hold records
        # of an earlier process).
        self._spilled = True
        self.stats = ActivityStats()

    def start(self) -> ActivityLog:
        """Starts the writer thread."""
        self._thread.start()
        return self

    def add(self, record: Record) -> None:
        """Queues ``record``; never waits on the database.

        With the buffer full (the database hung and the disk slow) the record is
        set aside in the durable queue at once: a short local write beats losing it.
        """
        try:
            self._buffer.put_nowait(record)
        except queue.Full:
            self._set_aside([record])

    def erase_user(self, user_id: str) -> None:
        """Deletes the customer's activity, after the records queued before."""
        try:
            self._buffer.put_nowait(_Erase(user_id))
        except queue.Full:
            # Never lost, never waited for: the durable queue replays it.
            self._erase_later(user_id)

    def _erase_later(self, user_id: str) -> None:
        """Queues the erasure durably; the replay runs it once the store is back."""
        try:
            self._spill.put(SPILLED_ERASE, {"user_id": user_id})
            self._spilled = True
        except QueueError:
            logger.exception("Activity erasure lost: the queue cannot be written.")

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Waits until everything queued so far was written or set aside."""
        reached = threading.Event()
        self._buffer.put(_Barrier(reached), timeout=timeout_s)
        return reached.wait(timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """Handles what is queued, then stops the thread (waits ``timeout_s``)."""
        if not self._thread.is_alive():
            return
        self._buffer.put(_STOP, timeout=timeout_s)
        self._thread.join(timeout_s)

    # --- the writer thread ------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                if self._run_once():
                    return
            except Exception:  # the writer must outlive any one bad batch
                logger.exception("Activity writer: a batch failed.")

    def _run_once(self) -> bool:
        """Takes and handles one batch; True once told to stop."""
        items = self._take()
        records: list[Record] = []
        for item in items:
            if isinstance(item, RECORD_TYPES):
                records.append(item)
                continue
            self._write(records)
            records = []
            if isinstance(item, _Erase):
                self._erase(item.user_id)
            elif isinstance(item, _Barrier):
                item.reached.set()
            elif item is _STOP:
                return True
        self._write(records)
        self._replay()
        return False

    def _take(self) -> list[object]:
        try:
            items = [self._buffer.get(timeout=self._flush_interval_s)]
        except queue.Empty:
            return []
        deadline = self._monotonic() + self._flush_interval_s
        while len(items) < self._batch_size and items[-1] is not _STOP:
            try:
                wait = max(0.0, deadline - self._monotonic())
                items.append(self._buffer.get(timeout=wait))
            except queue.Empty:
                break
        return items

    def _write(self, records: Sequence[Record]) -> None:
        if not records:
            return
        if self._database(lambda c, s: write_recorded(c, s, records)):
            self.stats.written += len(records)
        else:
            self._set_aside(records)

    def _erase(self, user_id: str) -> None:
        try:
            self._spill.erase_user(user_id)
        except QueueError:
            logger.exception("Cannot erase a customer's set-aside activity.")
        if not self._database(lambda c, s: erase_recorded(c, s, user_id)):
            self._erase_later(user_id)

    def _set_aside(self, records: Sequence[Record]) -> None:
        by_kind: dict[str, list[Record]] = {}
        for record in records:
            by_kind.setdefault(spill_kind(record), []).append(record)
        for kind, group in by_kind.items():
            try:
                self._spill.put_many(kind, [(r.to_payload(), r.user_id) for r in group])
            except QueueError:
                self.stats.lost += len(group)
                metrics.DATABASE_FALLBACKS.labels(metrics.LOST).inc(len(group))
                logger.exception("%d activity records lost.", len(group))
                continue
            self.stats.spilled += len(group)
            metrics.DATABASE_FALLBACKS.labels(metrics.ACTIVITY).inc(len(group))
            self._spilled = True

    def _replay(self) -> None:
        if not self._spilled or self._monotonic() < self._down_until:
            return
        try:
            entries = self._spill.due(self._batch_size, kinds=_REPLAYED)
        except QueueError:
            logger.exception("Cannot read set-aside activity.")
            return
        if not entries:
            self._spilled = False
            return
        if self._database(lambda c, s: _apply(c, s, entries)):
            try:
                self._spill.done_many([e.id for e in entries])
            except QueueError:
                # Replayed again later, which stores nothing twice.
                logger.exception("Cannot remove replayed activity.")
                return
            replayed = sum(e.kind != SPILLED_ERASE for e in entries)
            self.stats.replayed += replayed
            logger.info("Replayed %d set-aside activity records.", replayed)

    def _database(self, work: Callable[[Connection, MarketingStore], object]) -> bool:
        """Runs ``work`` in one transaction, waiting at most ``write_timeout_s``."""
        if self._monotonic() < self._down_until:
            return False
        # A hung connection may never answer again: later tries take new ones.
        self._stuck = [t for t in self._stuck if t.is_alive()]
        if len(self._stuck) >= MAX_STUCK:
            return False
        outcome: list[BaseException | None] = []

        def call() -> None:
            try:
                store = self._store()
                with store.engine.begin() as connection:
                    work(connection, store)
                outcome.append(None)
            except BaseException as e:  # reported to the writer thread below
                outcome.append(e)

        worker = threading.Thread(target=call, name="activity-write", daemon=True)
        worker.start()
        worker.join(self._write_timeout_s)
        if worker.is_alive():
            self._stuck.append(worker)
            logger.warning("Marketing store did not answer; activity set aside.")
            if self._on_hung is not None:
                self._on_hung()
            return self._pause()
        error = outcome[0] if outcome else None
        if error is None:
            return True
        if not isinstance(error, DATABASE_DOWN):
            logger.error("Activity write failed: %r", error)
        else:
            reason = str(getattr(error, "orig", None) or error).splitlines()[:1]
            logger.warning(
                "Marketing store unavailable (%s: %s).",
                type(error).__name__,
                reason[0] if reason else "",
            )
        return self._pause()

    def _pause(self) -> bool:
        self._down_until = self._monotonic() + self._retry_after_s
        return False


def _apply(connection: Connection, store: MarketingStore, entries: list[Entry]) -> None:
    # In queue order: an erasure removes the records set aside before it.
    items: list[Recorded] = []
    for entry in entries:
        if entry.kind == SPILLED_ERASE:
            items.append(Erasure(str(entry.payload["user_id"])))
            continue
        try:
            items.append(record_from_payload(entry.kind, entry.payload))
        except (KeyError, TypeError, ValueError) as e:
            # Not a record this code wrote: keeping it would stop every replay.
            logger.error("Dropping malformed activity entry %d: %r", entry.id, e)
    write_recorded(connection, store, items)
