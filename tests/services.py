"""Real services in tests.

What a test does when one it needs (PostgreSQL, Redis) is down, and fixtures for
the local Redis (a pytest plugin of ``tests/conftest.py``).
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
