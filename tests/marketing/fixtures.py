"""Marketing stores per test (SQLite, the real PostgreSQL), and one that is down.

A pytest plugin of ``tests/conftest.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from marketing.store import MarketingStore
from privacy.cipher import DataCipher, generate_key
from tests.services import service_unavailable
from tools.scratch_database import scratch_database

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 11, 22, 10, 0)
# One key for the test session: stores and actions of a test agree on it.
TEST_DATA_KEY = generate_key()


@pytest.fixture
def cipher() -> DataCipher:
    """The data cipher of the tests' stores and actions."""
    return DataCipher(TEST_DATA_KEY)


@pytest.fixture
def marketing_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cipher: DataCipher
) -> Iterator[MarketingStore]:
    """A fresh SQLite marketing store, also the one actions built without a store use.

    Actions built without a store read ``AURORA_DATABASE_URL`` when constructed,
    so they open this database too, with the test data key and an outbox in the
    test's folder (nothing lands in the repository's ``.runtime/``).
    """
    url = f"sqlite:///{tmp_path / 'marketing.db'}"
    monkeypatch.setenv("AURORA_DATABASE_URL", url)
    monkeypatch.setenv("AURORA_ENDPOINTS", str(tmp_path / "no-endpoints.yml"))
    monkeypatch.setenv("AURORA_DATA_KEY", TEST_DATA_KEY)
    monkeypatch.setenv("AURORA_OUTBOX_PATH", str(tmp_path / "outbox.db"))
    monkeypatch.setenv("AURORA_PROFILE", "development")
    store = MarketingStore.from_url(url, cipher=cipher)
    yield store
    store.engine.dispose()


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the real PostgreSQL's ``test`` database, dropped afterwards.

    Without PostgreSQL: fails under ``CI=true``, else skips.
    """
    engine = sa.create_engine(POSTGRES_URL, future=True)
    try:
        with engine.connect():
            pass
    except OperationalError as e:
        engine.dispose()
        service_unavailable(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {e}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def postgres_db(postgres_schema: str, cipher: DataCipher) -> Iterator[MarketingStore]:
    """A marketing store in the real PostgreSQL (its own schema), clock at ``T0``."""
    engine = sa.create_engine(POSTGRES_URL, future=True)
    store = MarketingStore(
        engine, schema=postgres_schema, clock=lambda: T0, cipher=cipher
    )
    store.create_tables()
    yield store
    engine.dispose()


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh database in the real PostgreSQL, dropped afterwards; yields its name.

    For code that takes a URL (the operator command, Rasa's tracker store). Without
    PostgreSQL: fails under ``CI=true``, else skips.
    """
    try:
        with scratch_database() as name:
            yield name
    except OperationalError as e:
        service_unavailable(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {e}")


def rows_of(store: MarketingStore, user_id: str) -> dict[str, int]:
    """Rows of ``user_id`` per table, over every table with personal data."""
    found = {}
    with store.engine.connect() as connection:
        for table in store.metadata.tables.values():
            if "user_id" not in table.c:
                continue
            query = sa.select(sa.func.count()).where(table.c.user_id == user_id)
            if count := connection.execute(query).scalar_one():
                found[table.name] = count
    return found


def broken_store() -> MarketingStore:
    """A store factory for a database that is down."""
    raise OperationalError("SELECT 1", {}, Exception("connection refused"))
