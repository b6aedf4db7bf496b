"""Fixtures that make a real service unavailable (a pytest plugin of conftest.py).

``pg_proxy`` and ``redis_proxy`` are ``tools.fault_proxy.TcpProxy`` instances in
front of the real PostgreSQL (database ``test``) and Redis: a test points the code
under test at the proxy and calls ``stop()`` (down), ``hang()`` (hung) and
``start()`` (back).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.services import service_unavailable
from tools.fault_proxy import TcpProxy

__all__ = ["TcpProxy", "pg_proxy", "redis_proxy"]

POSTGRES_PORT = 5432
REDIS_PORT = 6379


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    """A stoppable proxy in front of the real PostgreSQL (user postgres, db test)."""
    if not _reachable(POSTGRES_PORT):
        service_unavailable("PostgreSQL on 127.0.0.1:5432 is not reachable")
    proxy = TcpProxy(POSTGRES_PORT)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    """A stoppable proxy in front of the real Redis."""
    if not _reachable(REDIS_PORT):
        service_unavailable("Redis on 127.0.0.1:6379 is not reachable")
    proxy = TcpProxy(REDIS_PORT)
    proxy.start()
    yield proxy
    proxy.stop()
