"""Rasa's events from the real RabbitMQ into the real PostgreSQL, counted once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.actions.action import create_bot_utterance
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from marketing.connection import LazyStore
from marketing.followups import followup_marker
from marketing.store import CLICK, IMPRESSION, Interaction, MarketingStore, utc_now
from tests.faults import TcpProxy
from tests.marketing.amqp_helpers import (
    Names,
    encoded,
    make_consumer,
    publish,
    until,
    waiting,
)
from tests.marketing.rasa_events import TS, action_event, user_event


def count(store: MarketingStore, table: str) -> int:
    with store.engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(store.table(table))
        return int(connection.execute(query).scalar_one())


# The cluster's event broker, as endpoints.yml names it (RABBITMQ_* expanded by
# Rasa); an exchange of the test's own keeps its events out of other queues.
ENDPOINTS = """\
event_broker:
  type: pika
  url: ${RABBITMQ_HOST}
  port: ${RABBITMQ_PORT}
  username: ${RABBITMQ_USER}
  password: ${RABBITMQ_PASSWORD}
  queues:
    - ${RABBITMQ_QUEUE}
  exchange_name: %s
"""


async def test_events_rasa_publishes_land_in_postgres(
    rabbitmq_url: str,
    rabbitmq_names: Names,
    postgres_db: MarketingStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue, exchange = rabbitmq_names
    postgres_db.log(
        [
            Interaction(
                "o_fan", "au-buds-pro2", IMPRESSION, "hybrid", None, "trk1",
                utc_now() - timedelta(hours=1),
            )
        ]
    )  # fmt: skip
    environment = {
        "RABBITMQ_HOST": "127.0.0.1",
        "RABBITMQ_PORT": "5672",
        "RABBITMQ_USER": "guest",
        "RABBITMQ_PASSWORD": "guest",
        "RABBITMQ_QUEUE": queue,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(ENDPOINTS % exchange, encoding="utf-8")
    broker = await EventBroker.create(
        read_endpoint_config(str(endpoints), "event_broker")
    )
    assert isinstance(broker, PikaEventBroker)
    parse_data = {
        "intent": {"name": "ask_price", "confidence": 0.9},
        "entities": [{"entity": "product_category", "value": "耳机"}],
        "sentiment": {"name": "negative", "confidence": 0.8},
    }
    wechat = {"wechat": {"openid": "o_fan", "msg_type": "text"}}
    reply = {"text": "极光耳机 399 元", **followup_marker("au-buds-pro2", CLICK)}
    tracker = DialogueStateTracker.from_events(
        "o_fan",
        [
            UserUttered("耳机多少钱", parse_data=parse_data, metadata=wechat),
            ActionExecuted("action_extract_slots"),
            ActionExecuted("action_price_info"),
            create_bot_utterance(reply),
            ActionExecuted("action_listen"),
        ],
    )
    await InMemoryTrackerStore(Domain.empty(), event_broker=broker).save(tracker)
    published = len(tracker.events)
    for _ in range(200):  # Rasa publishes in background tasks
        if await waiting(rabbitmq_url, queue) >= published:
            break
        await asyncio.sleep(0.05)
    await broker.close()
    assert await waiting(rabbitmq_url, queue) == published

    stats = await make_consumer(rabbitmq_url, rabbitmq_names, lambda: postgres_db).run()

    assert (stats.received, stats.acked, stats.rejected) == (published, published, 0)
    assert await waiting(rabbitmq_url, queue) == 0
    activity = postgres_db.table("activity")
    with postgres_db.engine.connect() as connection:
        row = connection.execute(
            sa.select(
                activity.c.user_id,
                activity.c.kind,
                activity.c.intent,
                activity.c.category,
                activity.c.sentiment,
            )
        ).one()
        actions = postgres_db.table("action_runs")
        ran = connection.execute(sa.select(actions.c.action)).scalars().all()
    assert tuple(row) == ("o_fan", "message", "ask_price", "耳机", "negative")
    assert ran == ["action_price_info"]
    clicks = [i for i in postgres_db.history("o_fan") if i.event == CLICK]
    assert [(c.item_id, c.tracking_id) for c in clicks] == [("au-buds-pro2", "trk1")]


async def test_events_delivered_again_are_counted_once(
    rabbitmq_url: str, rabbitmq_names: Names, postgres_db: MarketingStore
) -> None:
    events = encoded(
        user_event(timestamp=TS),
        action_event("action_recommend_products", timestamp=TS + 0.5),
        user_event(timestamp=TS + 60),
    )
    await publish(rabbitmq_url, rabbitmq_names, events + events)
    first = await make_consumer(rabbitmq_url, rabbitmq_names, lambda: postgres_db).run()
    await publish(rabbitmq_url, rabbitmq_names, events)
    again = await make_consumer(rabbitmq_url, rabbitmq_names, lambda: postgres_db).run()
    assert (first.acked, again.acked) == (6, 3)
    assert (count(postgres_db, "activity"), count(postgres_db, "action_runs")) == (
        2,
        1,
    )


async def test_a_poison_message_is_rejected_and_blocks_nothing(
    rabbitmq_url: str, rabbitmq_names: Names, postgres_db: MarketingStore
) -> None:
    good = encoded(user_event(timestamp=TS), user_event(timestamp=TS + 1))
    poison = [b"\xff\xfe not utf-8", b"{not json", b"[1, 2]", b"null"]
    await publish(rabbitmq_url, rabbitmq_names, [good[0], *poison, good[1]])
    stats = await make_consumer(rabbitmq_url, rabbitmq_names, lambda: postgres_db).run()
    assert (stats.acked, stats.rejected) == (2, 4)
    assert count(postgres_db, "activity") == 2
    assert await waiting(rabbitmq_url, rabbitmq_names[0]) == 0  # not requeued


async def test_database_down_nothing_acknowledged_then_written_when_back(
    rabbitmq_url: str, rabbitmq_names: Names, pg_proxy: TcpProxy, postgres_database: str
) -> None:
    url = pg_proxy.url_for("postgresql", f"/{postgres_database}", user="postgres")
    lazy = LazyStore(url, retry_after_s=0.0)
    events = encoded(*(user_event(timestamp=TS + n) for n in range(3)))
    pg_proxy.stop()
    await publish(rabbitmq_url, rabbitmq_names, events)

    # Down all along: received, never acknowledged, back in the queue after a stop.
    stop = asyncio.Event()
    consumer = make_consumer(rabbitmq_url, rabbitmq_names, lazy, idle_exit_s=None)
    running = asyncio.create_task(consumer.run(stop))
    assert await until(lambda: consumer.stats.received == 3)
    await asyncio.sleep(0.3)  # a few tries at the database
    stop.set()
    stats = await running
    assert (stats.acked, stats.rejected) == (0, 0)
    assert await waiting(rabbitmq_url, rabbitmq_names[0]) == 3

    # Back while a consumer waits on it: the same batch is written, then acked.
    stop = asyncio.Event()
    consumer = make_consumer(rabbitmq_url, rabbitmq_names, lazy, idle_exit_s=None)
    running = asyncio.create_task(consumer.run(stop))
    assert await until(lambda: consumer.stats.received == 3)
    pg_proxy.start()
    assert await until(lambda: consumer.stats.acked == 3)
    stop.set()
    await running
    lazy.close()
    store = MarketingStore.from_url(
        f"postgresql://postgres@127.0.0.1:5432/{postgres_database}"
    )
    try:
        assert count(store, "activity") == 3
    finally:
        store.engine.dispose()
    assert await waiting(rabbitmq_url, rabbitmq_names[0]) == 0


async def test_rabbitmq_down_then_back_reconnects(
    rabbitmq_url: str, rabbitmq_names: Names, postgres_db: MarketingStore
) -> None:
    proxy = TcpProxy(5672)
    url = proxy.url_for("amqp", "/", user="guest:guest")
    stop = asyncio.Event()
    consumer = make_consumer(url, rabbitmq_names, lambda: postgres_db, idle_exit_s=None)
    running = asyncio.create_task(consumer.run(stop))  # RabbitMQ unreachable
    try:
        await asyncio.sleep(0.3)
        proxy.start()
        await publish(rabbitmq_url, rabbitmq_names, encoded(user_event(timestamp=TS)))
        assert await until(lambda: consumer.stats.acked == 1)
        proxy.stop()  # the connection drops under the consumer
        await publish(
            rabbitmq_url, rabbitmq_names, encoded(user_event(timestamp=TS + 1))
        )
        await asyncio.sleep(0.3)
        proxy.start()
        assert await until(lambda: consumer.stats.acked == 2)
    finally:
        stop.set()
        await running
        proxy.stop()
    assert count(postgres_db, "activity") == 2


async def test_a_hung_database_counts_as_down_and_nothing_is_stored_twice(
    rabbitmq_url: str, rabbitmq_names: Names, pg_proxy: TcpProxy, postgres_database: str
) -> None:
    url = pg_proxy.url_for("postgresql", f"/{postgres_database}", user="postgres")
    lazy = LazyStore(url, retry_after_s=0.0)
    lazy()  # connected, tables created
    pg_proxy.hang()
    await publish(
        rabbitmq_url,
        rabbitmq_names,
        encoded(user_event(), user_event(timestamp=TS + 1)),
    )
    stop = asyncio.Event()
    consumer = make_consumer(
        rabbitmq_url,
        rabbitmq_names,
        lazy,
        idle_exit_s=None,
        write_timeout_s=0.5,
        on_hung=lazy.fail,
    )
    running = asyncio.create_task(consumer.run(stop))
    assert await until(lambda: consumer.stats.received == 2)
    await asyncio.sleep(1.5)  # a write or more given up on
    assert consumer.stats.acked == 0
    pg_proxy.start()
    assert await until(lambda: consumer.stats.acked == 2)
    stop.set()
    await running
    lazy.close()
    store = MarketingStore.from_url(
        f"postgresql://postgres@127.0.0.1:5432/{postgres_database}"
    )
    try:
        assert count(store, "activity") == 2
    finally:
        store.engine.dispose()
