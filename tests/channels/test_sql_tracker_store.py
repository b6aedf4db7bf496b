"""The threaded SQL tracker store stores, reads and streams what Rasa's own does.

Each conversation goes through Rasa's ``SQLTrackerStore`` and through
``ThreadedSQLTrackerStore`` on real databases (SQLite, PostgreSQL); the rows, the
trackers read back and the events handed to the broker are the same.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from channels.sql_tracker_store import ThreadedSQLTrackerStore
from channels.tracker_erasure import erase_conversation
from tests.services import service_unavailable

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


class RecordingBroker(EventBroker):  # type: ignore[misc]
    """Keeps what Rasa publishes, and the thread it publishes from."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []
        self.threads: set[str] = set()

    def publish(self, event: dict[str, Any]) -> None:
        self.threads.add(threading.current_thread().name)
        self.published.append(event)

    def is_ready(self) -> bool:
        return True


def turn(text: str, intent: str, action: str) -> list[Event]:
    return [
        UserUttered(text, {"name": intent, "confidence": 0.9}, message_id=text),
        SlotSet("sentiment", None),
        ActionExecuted(action),
        BotUttered(f"答：{text}"),
        ActionExecuted("action_listen"),
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database for each of the two stores: two SQLite files or two schemas."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/{{name}}.db"
        return
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as e:
        service_unavailable(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {e}")
    finally:
        engine.dispose()
    yield POSTGRES_URL


def stores(url: str) -> tuple[SQLTrackerStore, ThreadedSQLTrackerStore]:
    brokers = RecordingBroker(), RecordingBroker()
    return (
        SQLTrackerStore(DOMAIN, host=url.format(name="rasa"), event_broker=brokers[0]),
        ThreadedSQLTrackerStore(
            DOMAIN, host=url.format(name="threaded"), event_broker=brokers[1]
        ),
    )


def rows(store: SQLTrackerStore, sender: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        result = connection.execute(
            sa.text(
                "SELECT type_name, timestamp, intent_name, action_name, data "
                "FROM events WHERE sender_id = :sender ORDER BY id"
            ),
            {"sender": sender},
        )
        return [tuple(row) for row in result]


async def converse(store: TrackerStore, sender: str) -> DialogueStateTracker:
    """Two sessions of two turns, saved after each turn as Rasa's processor does."""
    tracker = await store.get_or_create_tracker(sender)
    for number, (text, intent, action) in enumerate(
        [
            ("X5 Pro多少钱", "ask_price", "action_price_info"),
            ("有什么优惠", "ask_promotion", "action_list_promotions"),
            ("你好", "greet", "utter_greet"),
            ("谢谢", "thank", "utter_thank"),
        ]
    ):
        retrieved = await store.retrieve(sender)
        assert retrieved is not None
        tracker = retrieved
        if number == 2:
            tracker.update(ActionExecuted("action_session_start"))
            tracker.update(SessionStarted())
            tracker.update(ActionExecuted("action_listen"))
        tracker.update_with_events(turn(text, intent, action), DOMAIN)
        await store.save(tracker)
    return tracker


async def test_the_same_rows_trackers_and_broker_events(database_url: str) -> None:
    # Two senders: on PostgreSQL both stores share the table.
    sender, theirs = (f"o_{uuid.uuid4().hex}" for _ in range(2))
    rasa_store, threaded = stores(database_url)
    ours = await converse(threaded, sender)
    await converse(rasa_store, theirs)
    try:
        expected = [row[:1] + row[2:4] for row in rows(rasa_store, theirs)]
        assert [row[:1] + row[2:4] for row in rows(threaded, sender)] == expected
        assert [json.loads(row[4])["event"] for row in rows(threaded, sender)] == [
            row[0] for row in expected
        ]
        latest, full = (
            await threaded.retrieve(sender),
            await threaded.retrieve_full_tracker(sender),
        )
        rasa_latest = await rasa_store.retrieve(theirs)
        rasa_full = await rasa_store.retrieve_full_tracker(theirs)
        assert latest is not None and rasa_latest is not None
        assert full is not None and rasa_full is not None
        assert len(latest.events) == len(rasa_latest.events) < len(full.events)
        assert len(full.events) == len(rasa_full.events) == len(rows(threaded, sender))
        assert [e.type_name for e in latest.events] == [
            e.type_name for e in ours.events
        ]
        assert [e.type_name for e in full.events] == [
            e.type_name for e in rasa_full.events
        ]
        assert latest.current_slot_values() == rasa_latest.current_slot_values()
        published = [
            [(e["event"], e.get("name"), e.get("text")) for e in store.published]
            for store in (rasa_store.event_broker, threaded.event_broker)
        ]
        assert published[0] == published[1]
        assert len(published[1]) == len(rows(threaded, sender))
        assert threaded.event_broker.threads == {threading.current_thread().name}
        assert await threaded.retrieve(f"o_{uuid.uuid4().hex}") is None
        # 删除我的数据 reaches its rows (channels.tracker_erasure).
        stored = len(rows(threaded, sender))
        assert await erase_conversation(threaded, sender) == stored
        assert await threaded.retrieve_full_tracker(sender) is None
    finally:
        for store, who in ((rasa_store, theirs), (threaded, sender)):
            await erase_conversation(store, who)
            store.engine.dispose()


async def test_database_work_runs_in_the_worker_thread(tmp_path: Path) -> None:
    seen: set[str] = set()

    class Watched(ThreadedSQLTrackerStore):
        def _write(self, sender_id: str, events: Any) -> None:
            seen.add(threading.current_thread().name)
            super()._write(sender_id, events)

    store = Watched(DOMAIN, host=f"sqlite:///{tmp_path}/t.db")
    await converse(store, "o1")
    assert len(seen) == 1
    assert seen.pop().startswith("tracker-store")
    store.engine.dispose()


def test_rasa_builds_it_from_endpoints_yml(tmp_path: Path) -> None:
    endpoint = EndpointConfig(
        url=f"sqlite:///{tmp_path}/t.db",
        type="channels.sql_tracker_store.ThreadedSQLTrackerStore",
    )
    store = TrackerStore.create(endpoint, DOMAIN)
    # Rasa falls back to its in-memory store when it cannot import the class.
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, ThreadedSQLTrackerStore)
    assert (tmp_path / "t.db").is_file()
    inner.engine.dispose()


def test_endpoints_yml_names_it() -> None:
    text = (ROOT / "endpoints.yml").read_text(encoding="utf-8")
    assert "type: channels.sql_tracker_store.ThreadedSQLTrackerStore" in text
