"""A fresh PostgreSQL database for one test or benchmark run, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# The maintenance database of the local PostgreSQL (trust authentication).
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(prefix: str = "t", admin_url: str = ADMIN_URL) -> Iterator[str]:
    """Creates a database named ``<prefix>_<random>``; yields its name.

    Raises:
        sqlalchemy.exc.OperationalError: PostgreSQL cannot be reached.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield name
        with admin.connect() as connection:
            connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
    finally:
        admin.dispose()
