"""The marketing outbox replayed in the background, until it is empty.

Writes queued while the database was down (:mod:`marketing.outbox`) are replayed
when an action next connects or writes; a quiet bot might do neither for hours.
:class:`OutboxReplayer` is the action server's one thread that tries every
``interval_s`` while entries wait, so they reach the database soon after it is
back. Replays are idempotent, so racing an action's own replay doubles nothing.
No Rasa.
"""

from __future__ import annotations

import logging
import threading

from marketing.connection import StoreFactory
from marketing.outbox import DATABASE_DOWN, MarketingOutbox
from outbox.queue import QueueError

logger = logging.getLogger(__name__)

# How often the thread looks for waiting entries.
DEFAULT_INTERVAL_S = 10.0


class OutboxReplayer:
    """Replays ``outbox`` into the store every ``interval_s`` while entries wait.

    Args:
        outbox: The marketing outbox.
        store: Makes the store (a ``LazyStore``: fails fast while it is down).
        interval_s: Seconds between tries.
    """

    def __init__(
        self,
        outbox: MarketingOutbox,
        store: StoreFactory,
        interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self._outbox = outbox
        self._store = store
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One try: how many entries reached the database (never raises)."""
        try:
            if not self._outbox.pending():
                return 0
            return self._outbox.replay(self._store())
        except DATABASE_DOWN as e:
            logger.debug("Outbox waits: marketing store unavailable (%s).", e)
        except QueueError:
            logger.exception("Cannot read the marketing outbox.")
        return 0

    def start(self) -> None:
        """Starts the background thread (a daemon: it never holds up an exit)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._loop, name="marketing-outbox", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stops the thread after its current try."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval_s):
            self.run_once()
