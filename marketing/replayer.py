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

from marketing.connection import StoreFactory
from marketing.outbox import DATABASE_DOWN, MarketingOutbox
from marketing.periodic import Periodic
from outbox.queue import QueueError

logger = logging.getLogger(__name__)

# How often the thread looks for waiting entries.
DEFAULT_INTERVAL_S = 10.0


class OutboxReplayer(Periodic):
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
        super().__init__("marketing-outbox", interval_s)
        self._outbox = outbox
        self._store = store

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
