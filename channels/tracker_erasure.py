"""Deletes one sender's conversation from Rasa's tracker store (删除我的数据).

Rasa 3.6's tracker stores have no delete, so this adapter reaches into the three
the project deploys: ``InMemoryTrackerStore`` (its dict), ``SQLTrackerStore``
(the sender's rows of its ``events`` table) and ``RedisTrackerStore`` (the
sender's key). The wrappers Rasa puts around a store (``AwaitableTrackerStore``,
``FailSafeTrackerStore`` and its in-memory fallback) are unwrapped. Any other
store raises ``TrackerErasureError`` instead of pretending the data is gone.
"""

from __future__ import annotations

import asyncio

from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    RedisTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)


class TrackerErasureError(RuntimeError):
    """The tracker store cannot erase a conversation (unsupported type or failure)."""


async def erase_conversation(tracker_store: TrackerStore, sender_id: str) -> int:
    """Deletes every event of ``sender_id``; returns how many records went.

    Records are events for SQL, trackers (0 or 1) for memory and Redis.

    Raises:
        TrackerErasureError: the store is of a type this adapter does not know,
            or it failed.
    """
    if not sender_id:
        raise TrackerErasureError("no sender id to erase")
    erased = 0
    for store in _unwrap(tracker_store):
        try:
            erased += await _erase(store, sender_id)
        except TrackerErasureError:
            raise
        except Exception as e:  # SQLAlchemy's and redis' errors, whatever the driver
            raise TrackerErasureError(
                f"{type(store).__name__} failed to erase {sender_id}: {e}"
            ) from e
    return erased


def _unwrap(tracker_store: TrackerStore) -> list[TrackerStore]:
    """The stores that really hold trackers, behind Rasa's wrappers."""
    if isinstance(tracker_store, AwaitableTrackerStore):
        return _unwrap(tracker_store._tracker_store)
    if isinstance(tracker_store, FailSafeTrackerStore):
        # A tracker saved while the primary store was failing sits in the fallback.
        stores = _unwrap(tracker_store._tracker_store)
        fallback = tracker_store._fallback_tracker_store
        return stores + (_unwrap(fallback) if fallback is not None else [])
    return [tracker_store]


async def _erase(store: TrackerStore, sender_id: str) -> int:
    if isinstance(store, InMemoryTrackerStore):
        return 1 if store.store.pop(sender_id, None) is not None else 0
    if isinstance(store, SQLTrackerStore):
        # Synchronous SQLAlchemy: off the event loop.
        return await asyncio.to_thread(_erase_sql, store, sender_id)
    if isinstance(store, RedisTrackerStore):
        key = store.key_prefix + sender_id
        return int(await asyncio.to_thread(store.red.delete, key))
    raise TrackerErasureError(
        f"{type(store).__name__} cannot erase a conversation; use an SQL, Redis or "
        "in-memory tracker store, or delete the sender's events there by hand"
    )


def _erase_sql(store: SQLTrackerStore, sender_id: str) -> int:
    with store.session_scope() as session:
        deleted = (
            session.query(store.SQLEvent)
            .filter(store.SQLEvent.sender_id == sender_id)
            .delete(synchronize_session=False)
        )
        session.commit()
        return int(deleted)
