"""Batches of stream messages: the broker's rows, poison rejected, refusals isolated."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from catalog.model import Catalog
from channels.activity_broker import ActivityBroker
from marketing.activity_log import ActivityLog
from marketing.event_batches import BatchRecorder, PoisonMessage, decode_event
from marketing.store import CLICK, IMPRESSION, Interaction, MarketingStore
from outbox.queue import DurableQueue
from privacy.erasure import ERASE_PAYLOAD
from tests.marketing.amqp_helpers import quick_backoff
from tests.marketing.rasa_events import (
    TS,
    action_event,
    bot_event,
    followup_event,
    user_event,
)


@dataclass
class Delivered:
    """A delivered message as the recorder sees it (aio-pika's shape)."""

    body: bytes
    delivery_tag: int | None = None
    acks: list[bool] = field(default_factory=list)  # each ack's "multiple"
    rejects: list[bool] = field(default_factory=list)  # each reject's "requeue"

    async def ack(self, multiple: bool = False) -> None:
        self.acks.append(multiple)

    async def reject(self, requeue: bool = False) -> None:
        self.rejects.append(requeue)


def delivered(*bodies: bytes | dict[str, Any]) -> list[Delivered]:
    return [
        Delivered(b if isinstance(b, bytes) else json.dumps(b).encode(), tag)
        for tag, b in enumerate(bodies, 1)
    ]


async def record(recorder: BatchRecorder, batch: list[Delivered]) -> None:
    await recorder.handle(batch, asyncio.Event(), asyncio.Event())


def rows(store: MarketingStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the stream writes, without the autoincrement ids."""
    found = {}
    with store.engine.connect() as connection:
        for name in ("activity", "action_runs", "interactions"):
            table = store.table(name)
            columns = [c for c in table.c if c.name != "id"]
            query = sa.select(*columns).order_by(*columns)
            found[name] = [tuple(r) for r in connection.execute(query)]
    return found


def sqlite_store(path: Path) -> MarketingStore:
    store = MarketingStore.from_url(f"sqlite:///{path}")
    shown = Interaction(
        "o_fan", "p1", IMPRESSION, "hybrid", "c", "trk", datetime(2026, 12, 1, 7)
    )
    store.log([shown])
    return store


EVENTS = [
    {"event": "session_started", "sender_id": "o_fan", "timestamp": TS - 1},
    user_event(
        entities=[{"entity": "product_category", "value": "蓝牙耳机"}],
        sentiment="negative",
    ),
    user_event(
        text="/greet",
        intent="greet",
        wechat={"msg_type": "event", "event": "subscribe", "scene": "store-sz"},
        timestamp=TS + 1,
    ),
    action_event("action_extract_slots", timestamp=TS + 1.1),
    action_event("action_recommend_products", timestamp=TS + 1.2),
    followup_event("p1", CLICK, timestamp=TS + 1.3),
    action_event("action_listen", timestamp=TS + 1.4),
    user_event(sender="o_gone", timestamp=TS + 2),
    action_event("action_delete_my_data", sender="o_gone", timestamp=TS + 2.1),
    bot_event(custom=ERASE_PAYLOAD, sender="o_gone", timestamp=TS + 2.2),
    user_event(sender="x" * 200),  # no openid: nothing
]


async def test_the_consumer_writes_what_the_activity_broker_writes(
    tmp_path: Path, catalog: Catalog
) -> None:
    by_broker = sqlite_store(tmp_path / "broker.db")
    log = ActivityLog(lambda: by_broker, DurableQueue(tmp_path / "q.db")).start()
    broker = ActivityBroker(log, catalog)
    for event in EVENTS:
        broker.publish(event)
    await broker.close()

    by_consumer = sqlite_store(tmp_path / "consumer.db")
    recorder = BatchRecorder(lambda: by_consumer, catalog)
    batch = delivered(*EVENTS)
    await record(recorder, batch)

    expected = rows(by_broker)
    assert rows(by_consumer) == expected
    assert sorted(r[1:4] for r in expected["activity"]) == [
        ("o_fan", "message", "ask_product_info"),
        ("o_fan", "subscribe", None),
    ]
    assert [r[1:3] for r in expected["action_runs"]] == [
        ("o_fan", "action_recommend_products")
    ]
    assert sorted(r[3] for r in expected["interactions"]) == [CLICK, IMPRESSION]
    # One acknowledgement for the batch, on its last message.
    assert [m.acks for m in batch] == [[]] * (len(batch) - 1) + [[True]]


async def test_poison_is_rejected_without_requeue_and_the_rest_acked(
    marketing_db: MarketingStore,
) -> None:
    recorder = BatchRecorder(lambda: marketing_db)
    batch = delivered(user_event(), b"\x80", b'"text"', user_event(timestamp=TS + 1))
    await record(recorder, batch)
    assert [m.rejects for m in batch] == [[], [False], [False], []]
    assert batch[-1].acks == [True]
    assert (recorder.stats.acked, recorder.stats.rejected) == (2, 2)
    assert len(rows(marketing_db)["activity"]) == 2


@pytest.mark.parametrize("body", [b"", b"\xff", b"{", b"[]", b"42", b"[[[[" * 10**5])
def test_what_is_no_event_object_is_poison(body: bytes) -> None:
    with pytest.raises(PoisonMessage):
        decode_event(body)


async def test_a_message_the_database_refuses_is_rejected_alone(
    postgres_db: MarketingStore,
) -> None:
    # The database itself refuses one row (a check the schema does not have).
    table = f'"{postgres_db.metadata.schema}".activity'
    with postgres_db.engine.begin() as connection:
        connection.execute(
            sa.text(f"ALTER TABLE {table} ADD CONSTRAINT no_x CHECK (intent <> 'x')")
        )
    recorder = BatchRecorder(lambda: postgres_db, backoff=quick_backoff)
    batch = delivered(
        user_event(timestamp=TS),
        user_event(intent="x", timestamp=TS + 1),
        user_event(timestamp=TS + 2),
    )
    await record(recorder, batch)
    assert [m.rejects for m in batch] == [[], [False], []]
    assert [m.acks for m in batch] == [[False], [], [False]]
    assert len(rows(postgres_db)["activity"]) == 2


async def test_stopped_while_the_database_is_down_acknowledges_nothing() -> None:
    def down() -> MarketingStore:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("refused"))

    recorder = BatchRecorder(down, backoff=quick_backoff)
    batch = delivered(user_event())
    stop = asyncio.Event()
    handling = asyncio.create_task(recorder.handle(batch, stop, asyncio.Event()))
    await asyncio.sleep(0.3)
    assert not handling.done()  # still trying
    stop.set()
    await handling
    assert (batch[0].acks, batch[0].rejects) == ([], [])
