"""Erasing a conversation from real tracker stores (SQLite, PostgreSQL, Redis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    RedisTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.tracker_erasure import TrackerErasureError, erase_conversation
from tests.services import service_unavailable

POSTGRES = {"host": "127.0.0.1", "port": 5432, "db": "test", "username": "postgres"}
DOMAIN = Domain.empty()


def conversation(sender_id: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender_id,
        [
            ActionExecuted("action_listen"),
            UserUttered("我的手机号是13800138000", {"name": "inform"}),
            BotUttered("好的"),
            ActionExecuted("action_listen"),
        ],
    )


def postgres_store() -> SQLTrackerStore:
    engine = sa.create_engine("postgresql://postgres@127.0.0.1:5432/test")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as e:
        service_unavailable(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {e}")
    finally:
        engine.dispose()
    return SQLTrackerStore(DOMAIN, dialect="postgresql", **POSTGRES)


@pytest.fixture(params=["memory", "sqlite", "postgresql", "redis"])
def tracker_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[TrackerStore]:
    if request.param == "memory":
        yield InMemoryTrackerStore(DOMAIN)
    elif request.param == "sqlite":
        store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
        yield store
        store.engine.dispose()
    elif request.param == "postgresql":
        store = postgres_store()
        yield store
        store.engine.dispose()
    else:
        request.getfixturevalue("redis_url")
        prefix = "test" + uuid.uuid4().hex
        redis_store = RedisTrackerStore(DOMAIN, host="127.0.0.1", key_prefix=prefix)
        yield redis_store
        for key in redis_store.red.keys(prefix + "*"):
            redis_store.red.delete(key)
        redis_store.red.close()


async def test_erases_the_sender_and_only_the_sender(
    tracker_store: TrackerStore,
) -> None:
    leaver, stayer = (f"o_{uuid.uuid4().hex}" for _ in range(2))
    # As the agent holds it: wrapped twice.
    store = FailSafeTrackerStore(AwaitableTrackerStore(tracker_store))
    await store.save(conversation(leaver))
    await store.save(conversation(stayer))

    assert await erase_conversation(store, leaver) >= 1

    assert await store.retrieve_full_tracker(leaver) is None
    assert leaver not in set(await store.keys())
    kept = await store.retrieve_full_tracker(stayer)
    assert kept is not None and kept.latest_message is not None
    assert kept.latest_message.text == "我的手机号是13800138000"
    # Erasing again finds nothing; the stayer is cleaned up too.
    assert await erase_conversation(store, leaver) == 0
    assert await erase_conversation(store, stayer) >= 1


async def test_sql_counts_the_deleted_events(tmp_path: Path) -> None:
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    await store.save(conversation("o1"))
    assert await erase_conversation(AwaitableTrackerStore(store), "o1") == 4
    store.engine.dispose()


async def test_the_failsafe_fallback_is_erased_too() -> None:
    primary = InMemoryTrackerStore(DOMAIN)
    store = FailSafeTrackerStore(primary)
    await store.fallback_tracker_store.save(conversation("o1"))
    await primary.save(conversation("o1"))
    assert await erase_conversation(store, "o1") == 2
    assert await store.fallback_tracker_store.retrieve("o1") is None


async def test_an_unknown_store_is_a_clear_error() -> None:
    class ElsewhereStore(TrackerStore):
        pass

    with pytest.raises(TrackerErasureError, match="ElsewhereStore cannot erase"):
        await erase_conversation(ElsewhereStore(DOMAIN), "o1")


async def test_a_failing_store_is_a_clear_error(tmp_path: Path) -> None:
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    store.engine.dispose()
    (tmp_path / "t.db").unlink()
    (tmp_path / "t.db").mkdir()  # the file is gone: a broken database
    with pytest.raises(TrackerErasureError, match="SQLTrackerStore failed"):
        await erase_conversation(store, "o1")
