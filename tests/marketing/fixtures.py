"""A marketing store per test, and one that is down.

A pytest plugin of ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from marketing.store import MarketingStore


@pytest.fixture
def marketing_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MarketingStore]:
    """A fresh SQLite marketing store, also the one actions built without a store use.

    Actions built without a store read ``AURORA_DATABASE_URL`` when constructed,
    so they open this database too.
    """
    url = f"sqlite:///{tmp_path / 'marketing.db'}"
    monkeypatch.setenv("AURORA_DATABASE_URL", url)
    monkeypatch.setenv("AURORA_ENDPOINTS", str(tmp_path / "no-endpoints.yml"))
    store = MarketingStore.from_url(url)
    yield store
    store.engine.dispose()


def broken_store() -> MarketingStore:
    """A store factory for a database that is down."""
    raise OperationalError("SELECT 1", {}, Exception("connection refused"))
