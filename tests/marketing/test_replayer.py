"""The background replayer brings queued writes to PostgreSQL once it is back."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import sqlalchemy as sa

from marketing.connection import LazyStore
from marketing.outbox import Kept, MarketingOutbox, Write, keep
from marketing.replayer import OutboxReplayer
from marketing.store import MarketingStore
from outbox.queue import DurableQueue
from tests.faults import TcpProxy
from tests.marketing.fixtures import T0, broken_store


def test_nothing_to_do_and_a_database_that_is_down_are_quiet(tmp_path: Path) -> None:
    outbox = MarketingOutbox(DurableQueue(tmp_path / "o.db"), retry_after_s=0)
    replayer = OutboxReplayer(outbox, broken_store)
    assert replayer.run_once() == 0
    assert keep(Write.opt_out("u1", T0), broken_store, outbox) is Kept.QUEUED
    assert replayer.run_once() == 0
    assert outbox.pending() == 1


def test_queued_writes_reach_postgresql_when_it_is_back_without_any_turn(
    pg_proxy: TcpProxy, postgres_schema: str, tmp_path: Path
) -> None:
    url = pg_proxy.url_for("postgresql", "/test", user="postgres")
    outbox = MarketingOutbox(DurableQueue(tmp_path / "o.db"), retry_after_s=0)
    store = LazyStore(
        url,
        retry_after_s=0,
        connect=functools.partial(MarketingStore.from_url, schema=postgres_schema),
    )
    pg_proxy.stop()
    assert keep(Write.opt_out("o_quiet", T0), store, outbox) is Kept.QUEUED
    replayer = OutboxReplayer(outbox, store, interval_s=0.05)
    replayer.start()
    try:
        time.sleep(0.3)
        assert outbox.pending() == 1  # still down: it waits
        pg_proxy.start()
        deadline = time.monotonic() + 20
        while outbox.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        replayer.stop()
    assert outbox.pending() == 0
    engine = sa.create_engine("postgresql://postgres@127.0.0.1:5432/test")
    reader = MarketingStore(engine, schema=postgres_schema)
    assert reader.is_opted_out("o_quiet")
    engine.dispose()
