"""The analytics consumer: Rasa's event stream from RabbitMQ into the marketing store.

In a cluster Rasa publishes every tracker event to RabbitMQ (``event_broker:
type: pika``): the JSON of ``{"sender_id": ..., **event.as_dict()}`` on the fanout
exchange ``rasa-exchange``, into the durable queue ``RABBITMQ_QUEUE``.
:class:`EventConsumer` reads the queue and records the events exactly as the
activity broker does in one process (:mod:`marketing.event_records`: the same
mapping and the same writer):

- **Batches**: up to ``batch_size`` messages (the prefetch is twice that), or
  what arrived within ``flush_interval_s``, written in one transaction and then
  acknowledged with one ``ack(multiple=True)`` (:mod:`marketing.event_batches`).
- **At least once, counted once**: nothing is acknowledged before its batch
  committed, so a crash re-delivers; rows are keyed by their event's id
  (``on conflict do nothing``), so a re-delivered event is stored once.
- **Database down or hung**: nothing is acknowledged; the batch is tried again
  with exponential backoff (one warning when the store goes, one line when it
  is back) while RabbitMQ keeps the rest.
- **RabbitMQ down or the connection lost**: reconnects with backoff; RabbitMQ
  re-delivers what was not acknowledged.
- **Poison**: a message that is not the JSON of an event object is logged (its
  size, never its content) and rejected without requeue: dead-lettered where
  the queue has a dead-letter policy, and never blocking the queue. A batch the
  database refuses for its content rather than for being down is written one
  message at a time, and each message it still refuses is rejected the same way.
- **Stop** (SIGTERM): the batch in hand is finished, or left unacknowledged
  while the database is down; RabbitMQ re-delivers whatever was not acknowledged.

No Rasa.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, AMQPConnectionError

from marketing.backoff import Backoff, reason, wait
from marketing.event_batches import BatchRecorder, ConsumerStats
from marketing.rabbitmq import EXCHANGE, masked

logger = logging.getLogger(__name__)

# Messages per transaction and acknowledgement.
BATCH_SIZE = 200
# Longest wait for a batch to fill.
FLUSH_INTERVAL_S = 0.5
# Seconds to reach RabbitMQ before the attempt counts as failed.
CONNECT_TIMEOUT_S = 5.0
# How often a consumer waiting for messages looks at its stop signal.
_POLL_S = 0.2


class EventConsumer:
    """Records the events of one RabbitMQ queue in the marketing store.

    Args:
        url: RabbitMQ's URL (``amqp://user:password@host:port/``).
        queue: The durable queue Rasa publishes to.
        recorder: Writes and acknowledges the batches.
        exchange: Rasa's fanout exchange, bound to the queue here too, so no
            event is missed when the consumer starts before Rasa.
        batch_size: Messages per transaction.
        flush_interval_s: Longest wait for a batch to fill.
        backoff: Makes the pauses between tries to reach RabbitMQ.
        idle_exit_s: Stop after this long without a message (cron, tests);
            ``None`` runs until stopped.
    """

    def __init__(
        self,
        url: str,
        queue: str,
        recorder: BatchRecorder,
        exchange: str = EXCHANGE,
        batch_size: int = BATCH_SIZE,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        backoff: Backoff | None = None,
        idle_exit_s: float | None = None,
    ) -> None:
        self._url = url
        self._queue = queue
        self._recorder = recorder
        self._exchange = exchange
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._backoff = backoff or Backoff()
        self._idle_exit_s = idle_exit_s

    @property
    def stats(self) -> ConsumerStats:
        """What was received, acknowledged and rejected so far."""
        return self._recorder.stats

    async def run(self, stop: asyncio.Event | None = None) -> ConsumerStats:
        """Consumes until ``stop`` is set or, with ``idle_exit_s``, the queue idles.

        Never raises for RabbitMQ or the database being down: it waits for them.
        """
        stop = stop or asyncio.Event()
        down = False
        while not stop.is_set():
            try:
                connection = await aio_pika.connect(
                    self._url, timeout=CONNECT_TIMEOUT_S
                )
            except (*CONNECTION_EXCEPTIONS, asyncio.TimeoutError) as e:
                if not down:
                    logger.warning(
                        "RabbitMQ %s unreachable (%s); trying again.",
                        masked(self._url),
                        reason(e),
                    )
                down = True
                await wait(stop, self._backoff.next_delay())
                continue
            if down:
                logger.info("RabbitMQ %s reachable again.", masked(self._url))
            down = False
            self._backoff.reset()
            try:
                if await self._consume(connection, stop):
                    break
            except CONNECTION_EXCEPTIONS as e:
                logger.warning(
                    "RabbitMQ connection lost (%s); reconnecting.", reason(e)
                )
                down = True
                await wait(stop, self._backoff.next_delay())
            finally:
                with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                    await connection.close()
        return self.stats

    async def _consume(
        self, connection: AbstractConnection, stop: asyncio.Event
    ) -> bool:
        """Consumes over one connection; True once idle for ``idle_exit_s``.

        Raises:
            AMQPConnectionError: The connection or channel was lost.
        """
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        channel = await connection.channel()
        channel.close_callbacks.add(lambda *_: lost.set())
        await channel.set_qos(prefetch_count=2 * self._batch_size)
        # Declared as Rasa's PikaEventBroker declares them (else RabbitMQ refuses).
        exchange = await channel.declare_exchange(
            self._exchange, aio_pika.ExchangeType.FANOUT
        )
        queue = await channel.declare_queue(self._queue, durable=True)
        await queue.bind(exchange, "")
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        await queue.consume(inbox.put)
        logger.info(
            "Recording Rasa's events from queue %r of %s.",
            self._queue,
            masked(self._url),
        )
        while not stop.is_set():
            batch = await self._take(inbox, stop, lost)
            if lost.is_set():
                raise AMQPConnectionError("the channel was closed")
            if batch is None:
                logger.info("No event for %.1f s; stopping.", self._idle_exit_s)
                return True
            if batch:
                await self._recorder.handle(batch, stop, lost)
        return False

    async def _take(
        self,
        inbox: asyncio.Queue[AbstractIncomingMessage],
        stop: asyncio.Event,
        lost: asyncio.Event,
    ) -> list[AbstractIncomingMessage] | None:
        """The next batch; empty on stop or loss, ``None`` when idle too long."""
        loop = asyncio.get_running_loop()
        idle_since = loop.time()
        while True:
            if stop.is_set() or lost.is_set():
                return []
            try:
                batch = [await asyncio.wait_for(inbox.get(), _POLL_S)]
                break
            except asyncio.TimeoutError:
                idle = loop.time() - idle_since
                if self._idle_exit_s is not None and idle >= self._idle_exit_s:
                    return None
        deadline = loop.time() + self._flush_interval_s
        while len(batch) < self._batch_size and not lost.is_set():
            try:
                left = max(0.0, deadline - loop.time())
                batch.append(await asyncio.wait_for(inbox.get(), left))
            except asyncio.TimeoutError:
                break
        return batch
