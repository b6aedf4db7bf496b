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
/ ``MULTI``, retried when the lock changed meanwhile).

Two more changes: a waiting message looks again every ``WAIT_S`` instead of
every second (a follower's burst is not slowed down by a second per message),
and a live process renews its tickets, waiting or serving, every third of their
lifetime (Redis calls here are synchronous, as in Rasa's store: each bounded by
``SOCKET_TIMEOUT_S``). A ticket's lifetime (``TICKET_LOCK_LIFETIME``) is then how long a
replica that died holds the conversation up, not a limit on how long a message
may queue or a turn may run: Rasa fails a message queued longer with
``LockError`` and lets the next one run beside a turn that runs longer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")

logger = logging.getLogger(__name__)

# How often a message waiting for its conversation's lock looks again.
WAIT_S = 0.05
# Longest wait for one Redis call (they block the event loop).
SOCKET_TIMEOUT_S = 1.0

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
        # Rasa's 10 s socket timeout would hold the event loop (these calls are
        # synchronous) past a turn's lease; endpoints.yml may still set one.
        options = {"socket_timeout": SOCKET_TIMEOUT_S, **endpoint_config.kwargs}
        super().__init__(host=endpoint_config.url, **options)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = WAIT_S,
    ) -> AsyncGenerator[TicketLock, None]:
        """Waits for this message's turn in ``conversation_id``, holds it meanwhile.

        Raises:
            LockError: the ticket expired while this process stalled past its
                lifetime (its place is gone; Rasa's own store does the same).
        """
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        renewing = asyncio.ensure_future(
            self._renew(conversation_id, ticket, lock_lifetime)
        )
        try:
            while True:
                lock = self.get_lock(conversation_id)
                if lock is None or not any(t.number == ticket for t in lock.tickets):
                    raise LockError(
                        f"Could not acquire lock for conversation_id "
                        f"'{conversation_id}'."
                    )
                if not lock.is_locked(ticket):
                    break
                await asyncio.sleep(wait_time_in_seconds)
            yield lock
        finally:
            renewing.cancel()
            self.cleanup(conversation_id, ticket)

    async def _renew(self, conversation_id: str, ticket: int, lifetime: float) -> None:
        """Renews the ticket, waiting or serving, every third of its lifetime."""
        while True:
            await asyncio.sleep(lifetime / 3)
            try:
                self._change(
                    conversation_id, _renewed(conversation_id, ticket, lifetime)
                )
            except Exception:  # the next renewal tries again
                logger.exception("Renewing a conversation lock's ticket failed.")

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


def _renewed(
    conversation_id: str, ticket_number: int, lifetime: float
) -> Callable[[TicketLock | None], tuple[TicketLock, TicketLock]]:
    """Drops expired tickets and renews a live message's own."""

    def renew(lock: TicketLock | None) -> tuple[TicketLock, TicketLock]:
        lock = lock or TicketLock(conversation_id)
        lock.remove_expired_tickets()
        expires = time.time() + lifetime
        mine = next((t for t in lock.tickets if t.number == ticket_number), None)
        # An expired ticket is not put back: its number may be another's now.
        if mine is not None:
            mine.expires = expires
        return lock, lock

    return renew


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
