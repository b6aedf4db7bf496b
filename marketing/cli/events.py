"""``aurora-marketing consume-events``: Rasa's event stream into the marketing store.

The analytics consumer of a cluster (:mod:`marketing.event_consumer`): Rasa's
``pika`` event broker publishes every tracker event to RabbitMQ, and this command
records them (messages, intents, sentiment, actions, follow-ups per follower) in
the marketing store, as the activity broker does inside a single ``rasa run``.
RabbitMQ's address and queue come from the same ``RABBITMQ_*`` variables as
``endpoints.yml``'s broker (:mod:`marketing.rabbitmq`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import click

from marketing.cli.context import CliContext, pass_cli
from marketing.connection import LazyStore
from marketing.event_batches import BatchRecorder, ConsumerStats
from marketing.event_consumer import BATCH_SIZE, EventConsumer
from marketing.event_records import catalog_categories
from marketing.rabbitmq import EXCHANGE, amqp_url, masked, queue_name


@click.command("consume-events")
@click.option(
    "--url",
    metavar="URL",
    help="RabbitMQ (default: from RABBITMQ_HOST, _PORT, _USER and _PASSWORD).",
)
@click.option(
    "--queue",
    metavar="NAME",
    help="The queue (default: RABBITMQ_QUEUE, else aurora_events).",
)
@click.option(
    "--exchange",
    default=EXCHANGE,
    show_default=True,
    help="Rasa's fanout exchange, bound to the queue.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 5000),
    default=BATCH_SIZE,
    show_default=True,
    help="Events per transaction and acknowledgement.",
)
@click.option(
    "--exit-when-idle",
    "idle_s",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="Exit after this long without an event (cron); default: run until stopped.",
)
@pass_cli
def consume_events(
    cli: CliContext,
    url: str | None,
    queue: str | None,
    exchange: str,
    batch_size: int,
    idle_s: float | None,
) -> None:
    """Record Rasa's events from RabbitMQ in the marketing store (runs until stopped).

    Each batch is acknowledged once it is committed, and rows are keyed by their
    event, so an event delivered again is counted once. While the database or
    RabbitMQ is down it waits and tries again; a message that is no event is
    rejected (dead-lettered where the queue has a policy for it). SIGTERM or
    Ctrl-C stops after the batch in hand.
    """
    url = url or amqp_url(os.environ)
    queue = queue or queue_name(os.environ)
    # The consumer's own backoff paces the tries: no extra pause in the store.
    store = LazyStore(cli.settings.database_url, retry_after_s=0.0)
    recorder = BatchRecorder(store, catalog_categories(), on_hung=store.fail)
    consumer = EventConsumer(
        url,
        queue,
        recorder,
        exchange=exchange,
        batch_size=batch_size,
        idle_exit_s=idle_s,
    )

    async def main() -> ConsumerStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        return await consumer.run(stop)

    try:
        stats = asyncio.run(main())
    finally:
        store.close()
    click.echo(
        f"{masked(url)} {queue}: {stats.received} events received, "
        f"{stats.acked} recorded or skipped, {stats.rejected} rejected."
    )
