"""Rasa's SQL tracker store with its database work off the event loop, one read less.

Configured in ``endpoints.yml`` (SQLite or PostgreSQL, the same keys as ``SQL``)::

    tracker_store:
      type: channels.sql_tracker_store.ThreadedSQLTrackerStore
      url: "sqlite:///.runtime/trackers.db"

Rasa 3.6's ``SQLTrackerStore`` runs synchronous SQLAlchemy inside its async
methods, so every query and commit (an fsync on SQLite) holds up the whole event
loop, every turn twice: the tracker read at the start and the save at the end.
And with an event broker (the activity broker of ``make run``, RabbitMQ in the
cluster), its save first reads the stored tracker again, replaying every event
of the session, only to learn how many events are stored, which its own count
query then tells once more.

This store runs the reads and writes in one worker thread (one writer: no
SQLite lock contention within the process; Rasa's lock store already keeps one
save per conversation at a time) and counts the stored events once per save.
What it stores, reads and hands the broker are Rasa's: the same rows, the same
events, the broker first and then the database, as Rasa orders them.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ThreadedSQLTrackerStore(SQLTrackerStore):  # type: ignore[misc]
    """``SQLTrackerStore`` whose database work runs in a worker thread.

    Takes the arguments of Rasa's ``SQLTrackerStore`` (``endpoints.yml``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="tracker-store")

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the latest conversation session (Rasa's, off the loop)."""
        return await self._in_worker(self._read, sender_id, False)

    async def retrieve_full_tracker(
        self, conversation_id: str
    ) -> DialogueStateTracker | None:
        """The tracker with the events of every session (Rasa's, off the loop)."""
        return await self._in_worker(self._read, conversation_id, True)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Streams the new events to the broker, then stores them."""
        stored = await self._in_worker(self._stored_events, tracker.sender_id)
        new_events = list(tracker.events)[stored:]
        if self.event_broker is not None:
            await self._stream_new_events(
                self.event_broker, new_events, tracker.sender_id
            )
        await self._in_worker(self._write, tracker.sender_id, new_events)
        logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored")

    async def _in_worker(self, call: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(call, *args))

    def _read(self, sender_id: str, all_sessions: bool) -> DialogueStateTracker | None:
        # SQLTrackerStore._retrieve, as a plain function.
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=all_sessions
            ).all()
            events = [json.loads(row.data) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _stored_events(self, sender_id: str) -> int:
        # What SQLTrackerStore counts in _additional_events: the latest session.
        with self.session_scope() as session:
            count: int = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=False
            ).count()
            return count

    def _write(self, sender_id: str, events: Sequence[Event]) -> None:
        # SQLTrackerStore.save's rows, as Rasa writes them.
        with self.session_scope() as session:
            for event in events:
                data = event.as_dict()
                intent = (
                    data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                )
                session.add(
                    self.SQLEvent(
                        sender_id=sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
