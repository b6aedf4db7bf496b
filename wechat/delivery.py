"""Customer-service messages that reach the user, in order, even through outages.

``Delivery.deliver`` sends an openid's messages one by one. A failure worth
another try (errcode -1: transport error, HTTP 5xx, WeChat's "system busy") is
retried a few times with exponential backoff and jitter; if WeChat still fails,
the message and every later one of the same delivery go to a durable retry queue
(``outbox.queue.DurableQueue``, kind ``wechat_cs``, ``user_id`` = openid), and a
background task resends them with growing delays. Order per openid is kept: while
an openid has queued messages, its new messages are queued behind them, and the
task sends an openid's messages oldest first, stopping at the first failure.

The task gives up on a message (ERROR log, entry removed) after WeChat's 48-hour
window, and on 45015 (outside the window), 48001 (API not authorised) or any other
error not worth another try. A message WeChat accepted while the answer was lost
(a timeout) may arrive twice: the API has no idempotency key. A queue that cannot
be written loses the messages, logged as an ERROR with their count; nothing here
raises into the webhook.

The queue file is opened on first need; the task starts with the first delivery
that finds queued messages (also those left by an earlier process) and stops on
``close``. Plain Python, no Rasa. Over 300 lines as one module because the
foreground send and the background resend share one per-openid order (its lock
and its "queued behind" rule); split, that rule would have two homes.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from outbox.queue import DurableQueue, Entry, QueueError
from telemetry.correlation import unbind
from telemetry.metrics import DELIVERY, timed
from wechat.api_client import NOT_AUTHORISED, OUTSIDE_WINDOW, TRANSPORT_ERROR
from wechat.config import DEFAULT_RETRY_QUEUE_PATH
from wechat.errors import WeChatApiError

logger = logging.getLogger(__name__)

QUEUE_KIND = "wechat_cs"
# Tries of one message while a turn delivers, and the first pause between them.
DEFAULT_TRIES = 3
DEFAULT_BACKOFF_BASE_S = 0.2
# Pauses of the background task: doubled per failed attempt, up to the maximum.
DEFAULT_QUEUE_BASE_DELAY_S = 5.0
DEFAULT_QUEUE_MAX_DELAY_S = 600.0
# WeChat accepts customer-service messages up to 48 hours after the user wrote.
WECHAT_WINDOW_S = 48 * 3600.0
# Entries the task reads per round (oldest first).
SCAN_LIMIT = 1000
# Worth another try: our transport errors, HTTP 5xx and WeChat's "system busy".
RETRYABLE = frozenset({TRANSPORT_ERROR})

Body = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]


class MessageSender(Protocol):
    """What delivery needs of the customer-service API (``WeChatApiClient``)."""

    async def send_message(self, body: dict[str, Any]) -> None:
        """Sends one ``message/custom/send`` body; raises ``WeChatApiError``."""


class Delivery:
    """Delivers customer-service messages with retries and a durable queue.

    Args:
        api: the customer-service API.
        queue_path: the retry queue's SQLite file.
        on_not_authorised: called on 48001 (the account may not use the API).
        tries: tries of one message during a delivery.
        backoff_base_s: first pause between those tries (doubled, with jitter).
        queue_base_delay_s: first pause of the background task for an openid.
        queue_max_delay_s: longest pause of the background task.
        window_s: how long after queuing a message is still worth sending.
        sleep: ``asyncio.sleep`` (injectable for tests).
        clock: wall-clock seconds, as the queue's (injectable for tests).
        jitter: a number in [0, 1) (injectable for tests).
    """

    def __init__(
        self,
        api: MessageSender,
        queue_path: str | Path = DEFAULT_RETRY_QUEUE_PATH,
        *,
        on_not_authorised: Callable[[], Awaitable[None]] | None = None,
        tries: int = DEFAULT_TRIES,
        backoff_base_s: float = DEFAULT_BACKOFF_BASE_S,
        queue_base_delay_s: float = DEFAULT_QUEUE_BASE_DELAY_S,
        queue_max_delay_s: float = DEFAULT_QUEUE_MAX_DELAY_S,
        window_s: float = WECHAT_WINDOW_S,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._api = api
        self._path = Path(queue_path)
        self._on_not_authorised = on_not_authorised
        self._tries = max(1, tries)
        self._backoff_base_s = backoff_base_s
        self._queue_base_delay_s = queue_base_delay_s
        self._queue_max_delay_s = queue_max_delay_s
        self._window_s = window_s
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._queue: DurableQueue | None = None
        self._loaded = False
        self._load_lock = asyncio.Lock()
        # Openid -> how many of its messages wait in the queue (this process knows).
        self._queued: dict[str, int] = {}
        # Openid -> wall-clock time before which the task leaves it alone.
        self._hold: dict[str, float] = {}
        # Openid -> (lock, users): one sender per openid at a time, so order holds.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False

    # --- delivering -------------------------------------------------------------

    async def start(self) -> None:
        """Starts resending what an earlier process left queued (if anything)."""
        await self._load()
        if self._queued:
            self._start_worker()

    async def deliver(self, openid: str, bodies: Sequence[Body]) -> None:
        """Sends ``bodies`` to ``openid`` in order, or queues them; never raises."""
        if not bodies:
            return
        with timed(DELIVERY):
            await self._deliver(openid, bodies)

    async def _deliver(self, openid: str, bodies: Sequence[Body]) -> None:
        await self.start()  # also after ``close``, with messages still queued
        async with self._exclusive(openid):
            if self._queued.get(openid):
                await self._enqueue(openid, list(bodies), "earlier messages queued")
                return
            for sent, body in enumerate(bodies):
                try:
                    await self._send_with_retries(body)
                except WeChatApiError as e:
                    left = list(bodies[sent:])
                    if e.errcode in RETRYABLE:
                        await self._enqueue(openid, left, str(e))
                    else:
                        await self._refused(openid, e, len(left))
                    return

    async def _send_with_retries(self, body: Body) -> None:
        for attempt in range(self._tries):
            try:
                await self._api.send_message(body)
                return
            except WeChatApiError as e:
                if e.errcode not in RETRYABLE or attempt + 1 == self._tries:
                    raise
                pause = self._backoff_base_s * 2**attempt * (0.5 + self._jitter())
                logger.warning("WeChat API failed (%s); retrying in %.2fs.", e, pause)
                await self._sleep(pause)

    async def _refused(self, openid: str, error: WeChatApiError, lost: int) -> None:
        if error.errcode == OUTSIDE_WINDOW:
            logger.warning(
                "%s is outside WeChat's 48-hour window (45015); "
                "%d replies not delivered.",
                openid,
                lost,
            )
        elif error.errcode == NOT_AUTHORISED:
            logger.error(
                "This account may not use the customer-service API (48001); "
                "answering passively only from now on. %d replies lost.",
                lost,
            )
            if self._on_not_authorised is not None:
                await self._on_not_authorised()
        else:
            logger.error(
                "Delivery to %s failed (%s); %d replies lost.", openid, error, lost
            )

    async def _enqueue(self, openid: str, bodies: list[Body], reason: str) -> None:
        queued = 0
        try:
            queue = await self._open()
            for body in bodies:
                await asyncio.to_thread(queue.put, QUEUE_KIND, body, openid)
                queued += 1
        except QueueError as e:
            logger.error(
                "The WeChat retry queue failed (%s); %d replies to %s lost.",
                e,
                len(bodies) - queued,
                openid,
            )
        if queued:
            logger.warning(
                "%d replies to %s queued for a later try (%s).", queued, openid, reason
            )
            self._queued[openid] = self._queued.get(openid, 0) + queued
            # WeChat just failed several times: the first resend waits a while.
            self._hold.setdefault(openid, self._clock() + self._delay(0))
            self._start_worker()
            self._wake.set()

    # --- the queue and its task -------------------------------------------------

    async def _open(self) -> DurableQueue:
        if self._queue is None:
            self._queue = await asyncio.to_thread(DurableQueue, self._path, self._clock)
        return self._queue

    async def _load(self) -> None:
        """Learns once which openids have queued messages (from an earlier run)."""
        if self._loaded:
            return
        async with self._load_lock:
            if self._loaded:
                return
            try:
                if await asyncio.to_thread(self._path.exists):
                    queue = await self._open()
                    entries = await asyncio.to_thread(queue.due, SCAN_LIMIT, QUEUE_KIND)
                    for entry in entries:
                        user = entry.user_id or ""
                        self._queued[user] = self._queued.get(user, 0) + 1
                    # Beyond SCAN_LIMIT entries, an openid's later queued messages
                    # are only learnt about as the first ones go out.
                    if entries:
                        logger.info("%d queued WeChat replies to resend.", len(entries))
            except QueueError as e:
                logger.error("The WeChat retry queue cannot be read: %s", e)
            self._loaded = True

    def _start_worker(self) -> None:
        if self._worker is None or self._worker.done():
            self._closing = False
            self._worker = asyncio.ensure_future(self._work())

    async def _work(self) -> None:
        # Started within some message's turn: its lines are about no message.
        unbind()
        while not self._closing:
            # Cleared before the round reads the queue: a message queued meanwhile
            # wakes the next round at once.
            self._wake.clear()
            try:
                pause = await self._round()
            except Exception:  # the task's boundary: it must outlive one bad round
                logger.exception("Resending queued WeChat replies failed.")
                pause = self._queue_base_delay_s
            if self._closing:
                return
            if pause is None and not self._queued:
                return  # nothing left; the next queued message starts a new task
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)

    async def _round(self) -> float | None:
        """Sends what is due; the pause until the next openid's turn, if any."""
        queue = await self._open()
        entries = await asyncio.to_thread(queue.due, SCAN_LIMIT, QUEUE_KIND)
        groups: dict[str, list[Entry]] = {}
        for entry in entries:
            groups.setdefault(entry.user_id or "", []).append(entry)
        next_at: float | None = None
        for openid, group in groups.items():
            if self._closing:
                break
            if self._hold.get(openid, 0.0) <= self._clock():
                async with self._exclusive(openid):
                    if self._queued.get(openid):
                        await self._resend(queue, openid, group)
            hold = self._hold.get(openid)
            if hold is not None:
                next_at = hold if next_at is None else min(next_at, hold)
        if next_at is None:
            return None
        return max(0.0, next_at - self._clock())

    async def _resend(
        self, queue: DurableQueue, openid: str, group: list[Entry]
    ) -> None:
        for position, entry in enumerate(group):
            if self._clock() - entry.created_at > self._window_s:
                logger.error(
                    "Gave up on a reply to %s queued %d times: WeChat's 48-hour "
                    "window is over (last error: %s).",
                    openid,
                    entry.attempts + 1,
                    entry.last_error,
                )
                await self._remove(queue, openid, [entry])
                continue
            try:
                await self._api.send_message(entry.payload)
            except WeChatApiError as e:
                if e.errcode in RETRYABLE:
                    await asyncio.to_thread(queue.retry_later, entry.id, 0.0, str(e))
                    delay = self._delay(entry.attempts + 1)
                    self._hold[openid] = self._clock() + delay
                    return
                rest = group[position:]
                logger.error(
                    "Gave up on %d queued replies to %s: %s.", len(rest), openid, e
                )
                if e.errcode == NOT_AUTHORISED and self._on_not_authorised is not None:
                    await self._on_not_authorised()
                await self._remove(queue, openid, rest)
                return
            await self._remove(queue, openid, [entry])
        self._hold.pop(openid, None)

    def _delay(self, attempts: int) -> float:
        """The background task's pause after ``attempts`` failed resends."""
        pause = min(self._queue_max_delay_s, self._queue_base_delay_s * 2**attempts)
        return float(pause * (0.5 + self._jitter()))

    async def _remove(
        self, queue: DurableQueue, openid: str, entries: list[Entry]
    ) -> None:
        for entry in entries:
            await asyncio.to_thread(queue.done, entry.id)
            left = self._queued.get(openid, 1) - 1
            if left > 0:
                self._queued[openid] = left
            else:
                self._queued.pop(openid, None)

    # --- erasure and shutdown ---------------------------------------------------

    async def erase(self, openid: str) -> int:
        """Deletes every queued message of ``openid``; returns how many.

        Raises:
            QueueError: the queue file cannot be written.
        """
        async with self._exclusive(openid):
            self._queued.pop(openid, None)
            self._hold.pop(openid, None)
            if self._queue is None and not await asyncio.to_thread(self._path.exists):
                return 0
            queue = await self._open()
            return await asyncio.to_thread(queue.erase_user, openid)

    async def pending(self) -> int:
        """How many messages wait in the queue."""
        if self._queue is None and not self._path.exists():
            return 0
        return await asyncio.to_thread((await self._open()).pending, QUEUE_KIND)

    async def close(self) -> None:
        """Stops the background task after its current message; entries stay.

        The next delivery starts it again while messages are queued.
        """
        worker = self._worker
        if worker is None:
            return
        self._closing = True
        self._wake.set()
        await asyncio.gather(worker, return_exceptions=True)
        if self._worker is worker:
            self._worker = None

    @asynccontextmanager
    async def _exclusive(self, openid: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(openid, (asyncio.Lock(), 0))
        self._locks[openid] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[openid]
            if users <= 1:
                del self._locks[openid]
            else:
                self._locks[openid] = (lock, users - 1)
