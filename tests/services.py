"""Real services in tests.

What a test does when one it needs (PostgreSQL, Redis, RabbitMQ) is down, and
fixtures for the local Redis and RabbitMQ (a pytest plugin of ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest


def service_unavailable(message: str) -> NoReturn:
    """A real service a test needs is down: fail under ``CI=true``, else skip.

    CI runs PostgreSQL, Redis and RabbitMQ; there a missing one is a broken
    setup, never a reason to pass. A laptop without them may skip.
    """
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: every service must run)")
    pytest.skip(message)


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> str:
    """The local Redis server's URL; without it: fail under CI=true, else skip."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as e:
        service_unavailable(f"Redis on 127.0.0.1:6379 is not reachable ({e})")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A unique key prefix on the local Redis; its keys are deleted afterwards."""
    import redis

    prefix = f"test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- RabbitMQ ------------------------------------------------------------------

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def rabbitmq_url() -> str:
    """The local RabbitMQ's URL; without it: fail under CI=true, else skip."""
    import asyncio

    import aio_pika

    async def probe() -> None:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as e:  # any failure to reach it: refused, timeout, auth
        service_unavailable(f"RabbitMQ on 127.0.0.1:5672 is not reachable ({e!r})")
    return RABBITMQ_URL


@pytest.fixture
def rabbitmq_names(rabbitmq_url: str) -> Iterator[tuple[str, str]]:
    """A unique ``(queue, exchange)`` on the local RabbitMQ, deleted afterwards.

    An exchange of its own too: Rasa's fanout ``rasa-exchange`` would copy the
    test's events into every other queue bound to it.
    """
    import asyncio

    import aio_pika

    suffix = uuid.uuid4().hex[:12]
    names = (f"test.events.{suffix}", f"test.exchange.{suffix}")
    yield names

    async def delete() -> None:
        connection = await aio_pika.connect(rabbitmq_url, timeout=3)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(names[0])
            await channel.exchange_delete(names[1])

    asyncio.run(delete())
