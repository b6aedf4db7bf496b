"""One batch of event-stream messages into the marketing store, acknowledged after.

:class:`BatchRecorder` is the database half of the RabbitMQ consumer
(:mod:`marketing.event_consumer`): it decodes and maps each message
(:func:`~marketing.event_records.recorded_from_event`, the activity broker's
mapping), writes the batch in one transaction, and only then acknowledges it
with one ``ack(multiple=True)``:

- the store down or hung: nothing is acknowledged; the batch is tried again with
  backoff (one warning when it goes, one line when it is back) until it is
  written, or the consumer stops or loses its channel (RabbitMQ re-delivers);
- a message that is no event (poison): logged by size, never content, and
  rejected without requeue (dead-lettered where the queue has a policy for it);
- a batch the store refuses for its data rather than for being down: written
  message by message, and each message still refused is rejected the same way.

Messages are anything with :class:`Message`'s shape (aio-pika's incoming
messages; fakes in tests). No Rasa.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from marketing.activity import CategorySource
from marketing.backoff import Backoff, reason, wait
from marketing.connection import StoreFactory, StoreUnavailable
from marketing.event_records import Recorded, recorded_from_event, write_recorded

logger = logging.getLogger(__name__)

# Longest wait for one write; a hung database counts as down after it.
WRITE_TIMEOUT_S = 10.0
# Writes that timed out and still hold a thread: with this many the store
# counts as down without a new try (each holds a connection)...
MAX_STUCK = 3
# ...unless they hang for longer than this: a connection that never answers
# again (a dead peer) must not stop the consumer for good.
FORGET_STUCK_S = 300.0


class Message(Protocol):
    """What the recorder needs of a delivered message (aio-pika's has it)."""

    @property
    def body(self) -> bytes:
        """The message's bytes."""

    @property
    def delivery_tag(self) -> int | None:
        """The channel's number for the delivery."""

    async def ack(self, multiple: bool = False) -> None:
        """Acknowledges it (and, with ``multiple``, every earlier delivery)."""

    async def reject(self, requeue: bool = False) -> None:
        """Rejects it (without ``requeue``: dropped, or dead-lettered)."""


class PoisonMessage(ValueError):
    """A message that is no Rasa event: it can never be recorded."""


class StoreDown(RuntimeError):
    """The marketing store did not answer in time."""


# The store cannot take writes now: any database error but a refusal of the data.
_DOWN = (SQLAlchemyError, StoreUnavailable, StoreDown)
# The store refused the data itself: trying again cannot help.
_REFUSED = (IntegrityError, DataError)


class _Outcome(enum.Enum):
    WRITTEN = "written"
    REFUSED = "refused"
    STOPPED = "stopped"


@dataclass
class ConsumerStats:
    """What the consumer did so far (counts of messages)."""

    received: int = 0
    acked: int = 0
    rejected: int = 0
    batches: int = 0


def decode_event(body: bytes) -> dict[str, Any]:
    """The event a message carries (Rasa's ``PikaEventBroker`` sends JSON).

    Raises:
        PoisonMessage: Not UTF-8 JSON of an object.
    """
    try:
        event = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise PoisonMessage(f"not JSON ({type(e).__name__})") from e
    if not isinstance(event, dict):
        raise PoisonMessage(f"not an event object ({type(event).__name__})")
    return event


class BatchRecorder:
    """Records batches of messages; acknowledges each batch once it committed.

    Args:
        store: Makes the store; raises while the database is down
            (``marketing.connection.LazyStore``).
        categories: Maps entity values to canonical categories (the catalog).
        write_timeout_s: Longest wait for one write.
        backoff: Makes the pauses between tries while the store is down.
        on_hung: Called when a write timed out (``LazyStore.fail``).
    """

    def __init__(
        self,
        store: StoreFactory,
        categories: CategorySource | None = None,
        write_timeout_s: float = WRITE_TIMEOUT_S,
        backoff: Callable[[], Backoff] = Backoff,
        on_hung: Callable[[], object] | None = None,
    ) -> None:
        self._store = store
        self._categories = categories
        self._write_timeout_s = write_timeout_s
        self._backoff = backoff
        self._on_hung = on_hung
        # (since, thread) of the writes that timed out.
        self._stuck: list[tuple[float, threading.Thread]] = []
        self.stats = ConsumerStats()

    async def handle(
        self,
        batch: Sequence[Message],
        stop: asyncio.Event,
        lost: asyncio.Event,
    ) -> None:
        """Records ``batch``; acknowledges it once written, rejects its poison.

        Returns without acknowledging when ``stop`` or ``lost`` is set while the
        store is down: RabbitMQ then re-delivers the batch.
        """
        self.stats.received += len(batch)
        mapped: list[tuple[Message, Recorded | None]] = []
        for message in batch:
            try:
                mapped.append((message, self._map(message.body)))
            except PoisonMessage as e:
                await self._reject(message, str(e))
        if not mapped:
            return
        items = [item for _, item in mapped if item is not None]
        outcome = await self._write_until_done(items, stop, lost)
        if outcome is _Outcome.WRITTEN:
            await mapped[-1][0].ack(multiple=True)
            self.stats.acked += len(mapped)
            self.stats.batches += 1
        elif outcome is _Outcome.REFUSED:
            await self._one_by_one(mapped, stop, lost)

    def _map(self, body: bytes) -> Recorded | None:
        event = decode_event(body)
        try:
            return recorded_from_event(event, self._categories)
        except Exception as e:  # an event this code cannot read is poison too
            raise PoisonMessage(f"unreadable event ({type(e).__name__})") from e

    async def _one_by_one(
        self,
        mapped: Sequence[tuple[Message, Recorded | None]],
        stop: asyncio.Event,
        lost: asyncio.Event,
    ) -> None:
        """Writes a refused batch a message at a time; rejects what is refused."""
        for message, item in mapped:
            if item is not None:
                outcome = await self._write_until_done([item], stop, lost)
                if outcome is _Outcome.STOPPED:
                    return
                if outcome is _Outcome.REFUSED:
                    await self._reject(message, "refused by the marketing store")
                    continue
            await message.ack()
            self.stats.acked += 1

    async def _reject(self, message: Message, reason: str) -> None:
        # The body holds what followers wrote: its size only, never its content.
        logger.error(
            "Rejected event message %s (%d bytes, not requeued): %s",
            message.delivery_tag,
            len(message.body),
            reason,
        )
        await message.reject(requeue=False)
        self.stats.rejected += 1

    async def _write_until_done(
        self, items: Sequence[Recorded], stop: asyncio.Event, lost: asyncio.Event
    ) -> _Outcome:
        """Writes ``items``, trying again while the store is down.

        Returns:
            ``WRITTEN``; ``REFUSED`` when the store refused the data itself;
            ``STOPPED`` when told to stop, or the channel was lost, first.
        """
        if not items:
            return _Outcome.WRITTEN
        backoff = self._backoff()
        loop = asyncio.get_running_loop()
        down_since: float | None = None
        while True:
            try:
                await self._write(items)
            except _REFUSED as e:
                logger.error("The marketing store refused a batch: %s", reason(e))
                return _Outcome.REFUSED
            except _DOWN as e:
                if down_since is None:
                    down_since = loop.time()
                    logger.warning(
                        "Marketing store unavailable (%s); events wait "
                        "unacknowledged, trying again.",
                        reason(e),
                    )
                if await wait(stop, backoff.next_delay(), lost):
                    return _Outcome.STOPPED
                continue
            except Exception:  # a bug on odd data: the messages go one by one
                logger.exception("Recording a batch of events failed.")
                return _Outcome.REFUSED
            if down_since is not None:
                logger.info(
                    "Marketing store back after %.1f s; events recorded again.",
                    loop.time() - down_since,
                )
            return _Outcome.WRITTEN

    async def _write(self, items: Sequence[Recorded]) -> None:
        """One transaction in a thread of its own, for at most ``write_timeout_s``.

        A daemon thread: one that hangs on a dead connection is left behind and
        never holds up the event loop, the next write or the process's exit.

        Raises:
            StoreDown: The write hung, or earlier ones still hang.
        """
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._stuck = [
            (since, thread)
            for since, thread in self._stuck
            if thread.is_alive() and now - since < FORGET_STUCK_S
        ]
        if len(self._stuck) >= MAX_STUCK:
            raise StoreDown("earlier writes still hang")
        done: asyncio.Future[None] = loop.create_future()

        def work() -> None:
            try:
                self._write_now(items)
                outcome: BaseException | None = None
            except BaseException as e:  # handed to the event loop below
                outcome = e
            with contextlib.suppress(RuntimeError):  # the loop is gone: no one waits
                loop.call_soon_threadsafe(_settle, done, outcome)

        thread = threading.Thread(target=work, name="event-consumer-write", daemon=True)
        thread.start()
        try:
            await asyncio.wait_for(asyncio.shield(done), self._write_timeout_s)
        except asyncio.TimeoutError as e:
            # Its late outcome is no one's business any more (not an unread error).
            done.add_done_callback(lambda f: f.cancelled() or f.exception())
            self._stuck.append((now, thread))
            if self._on_hung is not None:
                self._on_hung()
            raise StoreDown(f"no answer within {self._write_timeout_s:.1f} s") from e

    def _write_now(self, items: Sequence[Recorded]) -> None:
        store = self._store()
        with store.engine.begin() as connection:
            write_recorded(connection, store, items)


def _settle(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    if future.done():
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)
