"""Writes kept through an outage: the real PostgreSQL behind a stoppable proxy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketing.connection import LazyStore
from marketing.leads import Lead, SealedLead, seal
from marketing.outbox import LEAD, Kept, MarketingOutbox, Write, keep
from marketing.store import MarketingStore
from outbox.queue import DurableQueue, QueueError
from privacy.cipher import DataCipher
from tests.faults import TcpProxy
from tests.marketing.fixtures import T0, broken_store, rows_of

NUMBER = "13812345678"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _lead(cipher: DataCipher, user: str = "u1", ref: str = "r1") -> SealedLead:
    lead = Lead(user, "王先生", NUMBER, True, False, 0.5, None, T0, T0, ref=ref)
    return seal(lead, cipher, T0)


@pytest.fixture
def outbox(tmp_path: Path) -> MarketingOutbox:
    return MarketingOutbox(DurableQueue(tmp_path / "outbox.db"), retry_after_s=0)


def test_a_write_goes_to_the_database_when_it_is_up(
    outbox: MarketingOutbox, marketing_db: MarketingStore, cipher: DataCipher
) -> None:
    assert keep(Write.lead(_lead(cipher)), lambda: marketing_db, outbox) is Kept.STORED
    assert [lead.phone for lead in marketing_db.leads("u1")] == [NUMBER]
    assert outbox.pending() == 0


def test_the_outbox_holds_the_number_sealed(
    outbox: MarketingOutbox, cipher: DataCipher
) -> None:
    sealed = _lead(cipher)
    assert keep(Write.lead(sealed), broken_store, outbox) is Kept.QUEUED
    [entry] = outbox.queue.due(kind=LEAD)
    assert NUMBER not in repr(entry.payload)
    assert SealedLead.from_payload(entry.payload) == sealed


def test_neither_database_nor_outbox_is_lost_not_stored(
    tmp_path: Path, cipher: DataCipher
) -> None:
    queue = DurableQueue(tmp_path / "outbox.db")
    (tmp_path / "outbox.db").unlink()
    (tmp_path / "outbox.db").mkdir()  # the file cannot be opened any more
    outbox = MarketingOutbox(queue)
    with pytest.raises(QueueError):
        outbox.pending()
    assert keep(Write.lead(_lead(cipher)), broken_store, outbox) is Kept.LOST


def test_queued_writes_go_first_and_keep_their_order(
    outbox: MarketingOutbox, marketing_db: MarketingStore, cipher: DataCipher
) -> None:
    at = datetime(2026, 11, 22, 9, 0)
    keep(Write.lead(_lead(cipher)), broken_store, outbox)
    keep(Write.opt_out("u1", at), broken_store, outbox)
    keep(Write.signup("u1", "camp-a", at), broken_store, outbox)
    keep(Write.erase("u1"), broken_store, outbox)
    keep(Write.lead(_lead(cipher, ref="r2")), broken_store, outbox)
    assert outbox.pending() == 5
    assert keep(Write.opt_out("u2", at), lambda: marketing_db, outbox) is Kept.STORED
    assert outbox.pending() == 0
    # The erase ran after the first three and before the last lead.
    assert [lead.ref for lead in marketing_db.leads("u1")] == ["r2"]
    assert "opt_outs" not in rows_of(marketing_db, "u1")
    # The erased no survives as a digest (marketing/suppression.py).
    assert marketing_db.is_opted_out("u1") and marketing_db.is_opted_out("u2")
    assert marketing_db.campaigns_of("u1") == set()


def test_replay_is_idempotent(
    outbox: MarketingOutbox, marketing_db: MarketingStore, cipher: DataCipher
) -> None:
    at = datetime(2026, 11, 22, 9, 0)
    for write in (Write.lead(_lead(cipher)), Write.signup("u1", "c", at)):
        outbox.put(write)
        write.apply(marketing_db)  # written, but the entry was never removed
    assert outbox.replay(marketing_db) == 2
    assert len(marketing_db.leads("u1")) == 1
    assert marketing_db.campaigns_of("u1") == {"c"}


def test_a_malformed_entry_is_set_aside_not_blocking(
    outbox: MarketingOutbox, marketing_db: MarketingStore, cipher: DataCipher
) -> None:
    outbox.queue.put(LEAD, {"ref": "broken"}, user_id="u9")
    outbox.put(Write.lead(_lead(cipher)))
    assert outbox.replay(marketing_db) == 1
    assert outbox.pending() == 1 and len(marketing_db.leads("u1")) == 1


def test_erasing_a_user_keeps_queued_deletion_requests(
    outbox: MarketingOutbox, cipher: DataCipher
) -> None:
    outbox.put(Write.lead(_lead(cipher)))
    outbox.put(Write.erase("u1"))
    assert outbox.erase_user("u1") == 1
    assert [e.kind for e in outbox.queue.due()] == ["marketing.erase"]


def test_a_lead_written_while_postgresql_is_down_is_replayed_once_back(
    pg_proxy: TcpProxy,
    postgres_schema: str,
    outbox: MarketingOutbox,
    cipher: DataCipher,
) -> None:
    url = pg_proxy.url_for("postgresql", "/test", user="postgres")
    connect: Callable[[str], MarketingStore] = lambda u: MarketingStore.from_url(  # noqa: E731
        u, schema=postgres_schema, cipher=cipher
    )
    clock = Clock()
    store = LazyStore(url, clock=clock, connect=connect, on_connect=outbox.replay)
    keep(Write.lead(_lead(cipher, ref="before")), store, outbox)  # connects
    pg_proxy.stop()
    assert keep(Write.lead(_lead(cipher, ref="down")), store, outbox) is Kept.QUEUED
    store.close()  # the action server restarts while PostgreSQL is still down
    assert keep(Write.lead(_lead(cipher, ref="down2")), store, outbox) is Kept.QUEUED
    assert outbox.pending() == 2
    pg_proxy.start()
    clock.now += 60  # past LazyStore's pause after the failed connection
    store()  # connecting again replays the outbox
    assert outbox.pending() == 0
    assert keep(Write.lead(_lead(cipher, ref="after")), store, outbox) is Kept.STORED
    store.close()
    direct = sa.create_engine("postgresql://postgres@127.0.0.1:5432/test")
    reader = MarketingStore(direct, schema=postgres_schema, cipher=cipher)
    leads = reader.leads("u1")
    direct.dispose()
    assert [lead.ref for lead in leads] == ["before", "down", "down2", "after"]
    assert {lead.phone for lead in leads} == {NUMBER}


def test_a_backlog_of_activity_in_the_same_file_hides_no_marketing_write(
    tmp_path: Path, marketing_db: MarketingStore
) -> None:
    queue = DurableQueue(tmp_path / "shared.db")
    # The activity log sets its records aside in the same file (an outage).
    for n in range(300):
        queue.put("marketing.activity", {"event_id": f"e{n}"}, user_id=f"o{n}")
    outbox = MarketingOutbox(queue)
    outbox.put(Write.opt_out("u1", T0))
    assert outbox.pending() == 1
    assert outbox.replay(marketing_db) == 1
    assert marketing_db.is_opted_out("u1")
    assert queue.pending("marketing.activity") == 300  # the activity log's own
