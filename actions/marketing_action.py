"""The base of marketing actions: the store, the opt-out rule and safe database calls.

A database that is down must never cost the customer a reply: every store call
goes through :meth:`MarketingAction.db`, which runs it in a worker thread, logs
any error and returns a fallback value.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from abc import ABC
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from rasa_sdk import Tracker

from actions.catalog import Catalog
from actions.catalog_action import CatalogAction
from actions.settings import Settings, load_settings
from actions.store import MarketingStore

logger = logging.getLogger(__name__)

OPT_OUT_SLOT = "marketing_opt_out"
T = TypeVar("T")
StoreFactory = Callable[[], MarketingStore]

_lock = threading.Lock()
_stores: dict[str, MarketingStore] = {}


@functools.lru_cache(maxsize=1)
def default_settings() -> Settings:
    """The action server's settings, read once per process."""
    return load_settings()


def default_store() -> MarketingStore:
    """The store at the configured URL; a failed connection is retried next time."""
    url = default_settings().database_url
    with _lock:
        if url not in _stores:
            _stores[url] = MarketingStore.from_url(url)
        return _stores[url]


class MarketingAction(CatalogAction, ABC):
    """A catalog action that reads or writes the marketing store.

    Args:
        catalog: The catalog (``data/catalog.yml`` by default).
        today: The clock for promotions and campaigns.
        store: Makes the store (the configured database by default).
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        today: Callable[[], date] = date.today,
        store: StoreFactory | None = None,
    ) -> None:
        super().__init__(catalog, today)
        self._store_factory = store or default_store

    async def db(self, call: Callable[[MarketingStore], T], fallback: T) -> T:
        """Runs ``call(store)`` off the event loop; on any error logs and falls back.

        Args:
            call: What to do with the store.
            fallback: What to return when the database fails.

        Returns:
            The call's result, or ``fallback``.
        """

        def work() -> T:
            return call(self._store_factory())

        try:
            return await asyncio.to_thread(work)
        except Exception:
            logger.exception(
                "Marketing store unavailable in '%s'; replying without it.",
                self.name(),
            )
            return fallback

    async def opted_out(self, tracker: Tracker) -> bool:
        """Whether the customer unsubscribed: the slot, else the store.

        When the store cannot answer, the customer counts as opted out: a missed
        promotion costs less than one sent against their wish.
        """
        if tracker.get_slot(OPT_OUT_SLOT) is True:
            return True
        sender = tracker.sender_id
        return await self.db(lambda s: s.is_opted_out(sender), fallback=True)


def sentiment_of(tracker: Tracker) -> str | None:
    """The ``sentiment`` slot (``positive``, ``neutral``, ``negative``) or ``None``."""
    value: Any = tracker.get_slot("sentiment")
    return value if isinstance(value, str) else None
