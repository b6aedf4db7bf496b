"""Rasa's Redis lock store, safe for several replicas serving one conversation.

``endpoints.yml``'s ``lock_store`` of the cluster profile::

    lock_store:
      type: channels.redis_lock_store.ReplicatedRedisLockStore

Rasa's ``RedisLockStore`` keeps each conversation's ticket lock as one JSON value
and changes it by reading, changing and writing it back. Inside one process that
is atomic (no ``await`` in between); two replicas doing it at once lose tickets:
one replica's cleanup deletes the lock while the other has just queued a ticket
in it, whose message then fails with ``LockError``, or two messages get the same
ticket and run together. The cluster test met both when one follower's messages
reached both replicas. Here every change is one optimistic transaction (``WATCH``
/ ``MULTI``, retried when the lock changed meanwhile), and a waiting message
looks again every ``WAIT_S`` instead of every second, so a follower's burst is
not slowed down by a second per message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")

# How often a message waiting for its conversation's lock looks again.
WAIT_S = 0.05

# A change of a lock: the new lock (None deletes it) and what to return.
Change = Callable[[TicketLock | None], tuple[TicketLock | None, T]]


class ReplicatedRedisLockStore(RedisLockStore):  # type: ignore[misc]
    """``RedisLockStore`` whose ticket changes are atomic across processes.

    Args:
        endpoint_config: ``endpoints.yml``'s ``lock_store`` section: ``url`` is
            the host; ``port``, ``db``, ``password`` and the rest are those of
            Rasa's ``RedisLockStore``.
    """

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = WAIT_S,
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ticket lock, polled every ``WAIT_S`` by default."""
        async with super().lock(
            conversation_id, lock_lifetime, wait_time_in_seconds
        ) as lock:
            yield lock

    def _change(self, conversation_id: str, change: Change[T]) -> T:
        """Applies ``change`` to the stored lock atomically; returns its result."""
        from redis.exceptions import WatchError

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    changed, result = change(lock)
                    pipe.multi()
                    if changed is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, changed.dumps())
                    pipe.execute()
                    return result
                except WatchError:
                    continue  # another replica changed it first: again

    def issue_ticket(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME
    ) -> int:
        """Queues a new ticket for ``conversation_id``; returns its number."""

        def issue(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        return self._change(conversation_id, issue)

    def update_lock(self, conversation_id: str) -> None:
        """Drops the expired tickets (those of replicas that died)."""

        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Removes ``ticket_number`` from the lock."""
        self._change(conversation_id, _without(ticket_number, delete_when_idle=False))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Removes ``ticket_number``; deletes the lock when nobody else waits."""
        self._change(conversation_id, _without(ticket_number, delete_when_idle=True))


def _without(
    ticket_number: int, delete_when_idle: bool
) -> Callable[[TicketLock | None], tuple[TicketLock | None, Any]]:
    def remove(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
        if lock is None:
            return None, None
        lock.remove_ticket_for(ticket_number)
        if delete_when_idle and not lock.is_someone_waiting():
            return None, None
        return lock, None

    return remove
