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
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from rasa_sdk import Tracker

from actions.catalog import Catalog
from actions.catalog_action import CatalogAction
from actions.settings import Settings, load_settings
from actions.store import IMPRESSION, MarketingStore, utc_now
from actions.tracking import Shown, impressions

logger = logging.getLogger(__name__)

OPT_OUT_SLOT = "marketing_opt_out"
# A follow-up this long after a recommendation still counts as its click.
FOLLOWUP_WINDOW = timedelta(hours=24)
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


def reset_defaults() -> None:
    """Forgets the cached settings and stores (tests change the environment)."""
    default_settings.cache_clear()
    with _lock:
        for store in _stores.values():
            store.engine.dispose()
        _stores.clear()


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

    def now(self) -> datetime:
        """The current time for logged events (UTC, naive)."""
        return utc_now()

    async def log_shown(
        self,
        tracker: Tracker,
        shown: Sequence[Shown],
        variant: str,
        campaign: str | None = None,
    ) -> None:
        """Logs what was shown as impressions (a database error is only logged)."""
        rows = impressions(tracker.sender_id, shown, variant, campaign, self.now())
        await self.db(lambda s: s.log(rows), fallback=None)

    async def track_followup(self, tracker: Tracker, item_id: str, event: str) -> None:
        """Logs a click or purchase when the customer follows up on a recent showing.

        A question about, or an order of, an item recommended within
        ``FOLLOWUP_WINDOW`` counts against the latest impression of that item.
        """
        sender, since = tracker.sender_id, self.now() - FOLLOWUP_WINDOW

        def record(store: MarketingStore) -> None:
            history = store.history(sender, since)
            shown = [
                i for i in history if i.item_id == item_id and i.event == IMPRESSION
            ]
            if not shown:
                return
            latest = shown[-1]
            if any(
                i.tracking_id == latest.tracking_id and i.event == event
                for i in history
            ):
                return  # one click (or purchase) per impression
            store.log([replace(latest, event=event, created_at=self.now())])

        await self.db(record, fallback=None)

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
