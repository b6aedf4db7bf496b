"""Publishing to, and looking into, a test's queue on the real RabbitMQ."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

import aio_pika

from marketing.backoff import Backoff
from marketing.connection import StoreFactory
from marketing.event_batches import BatchRecorder
from marketing.event_consumer import EventConsumer

Names = tuple[str, str]  # (queue, exchange)


async def publish(url: str, names: Names, bodies: Iterable[bytes]) -> None:
    """Publishes ``bodies`` as Rasa's broker does (fanout exchange, persistent)."""
    queue_name, exchange_name = names
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.FANOUT
        )
        queue = await channel.declare_queue(queue_name, durable=True)
        await queue.bind(exchange, "")
        for body in bodies:
            message = aio_pika.Message(
                body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            await exchange.publish(message, "")


def encoded(*events: dict[str, Any]) -> list[bytes]:
    """Events as ``PikaEventBroker._message`` encodes them."""
    return [json.dumps(e).encode("utf-8") for e in events]


async def waiting(url: str, queue: str) -> int:
    """Messages ready in ``queue`` (delivered but unacknowledged ones are not)."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


def quick_backoff() -> Backoff:
    """Tries again within a fraction of a second (tests)."""
    return Backoff(first_s=0.05, max_s=0.2)


def make_consumer(
    url: str,
    names: Names,
    store: StoreFactory,
    idle_exit_s: float | None = 1.0,
    **recorder: Any,
) -> EventConsumer:
    """A consumer of the test's queue with short waits."""
    return EventConsumer(
        url,
        names[0],
        BatchRecorder(store, backoff=quick_backoff, **recorder),
        exchange=names[1],
        flush_interval_s=0.05,
        backoff=quick_backoff(),
        idle_exit_s=idle_exit_s,
    )


async def until(check: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    """Polls ``check`` until true or ``timeout_s`` passed; its last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
