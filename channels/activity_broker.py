"""Rasa's event broker that records what followers do in the marketing store.

Configured in ``endpoints.yml``::

    event_broker:
      type: channels.activity_broker.ActivityBroker

Rasa hands every new tracker event to :meth:`ActivityBroker.publish` on its
event loop; the event is mapped as the cluster's RabbitMQ consumer maps it
(:func:`marketing.event_records.recorded_from_event`: a ``user`` event becomes a
row of ``activity``, an ``action`` one of ``action_runs``, a reply marked as a
follow-up a click or purchase) and written in the background by
:class:`marketing.activity_log.ActivityLog`, which never blocks the loop and sets
records aside in the marketing outbox file while the database is down. The
database, outbox and timeout are the marketing settings (``endpoints.yml``'s
``marketing:`` section, ``AURORA_*``). A customer's deletion request erases the
activity its own message left behind.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import AbstractEventLoop
from collections.abc import Callable
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from marketing.activity import CategorySource
from marketing.activity_log import ActivityLog
from marketing.connection import LazyStore
from marketing.event_records import Erasure, catalog_categories, recorded_from_event
from marketing.settings import Settings, load_settings
from outbox.queue import DurableQueue

logger = logging.getLogger(__name__)


class ActivityBroker(EventBroker):  # type: ignore[misc]
    """Maps tracker events to records and hands them to the log.

    Args:
        log: The started background writer.
        catalog: Canonical product categories (entity values to categories).
        on_close: Runs after the log is closed (closes the store's connections).
    """

    def __init__(
        self,
        log: ActivityLog,
        catalog: CategorySource | None = None,
        on_close: Callable[[], object] | None = None,
    ) -> None:
        self._log = log
        self._catalog = catalog
        self._on_close = on_close

    @classmethod
    def from_settings(cls, settings: Settings) -> ActivityBroker:
        """A broker writing to the store and outbox that ``settings`` name.

        Raises:
            outbox.queue.QueueError: The outbox file cannot be opened.
        """
        store = LazyStore(settings.database_url)
        log = ActivityLog(
            store,
            DurableQueue(settings.outbox_path),
            on_hung=store.fail,
            write_timeout_s=settings.database_timeout_s,
        ).start()
        return cls(log, catalog_categories(), on_close=store.close)

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig,
        event_loop: AbstractEventLoop | None = None,
    ) -> ActivityBroker:
        """The broker of ``endpoints.yml`` (Rasa calls it at start-up).

        Raises:
            marketing.settings.SettingsError: A marketing setting is unusable.
            outbox.queue.QueueError: The outbox file cannot be opened.
        """
        broker = cls.from_settings(load_settings())
        logger.info("Recording follower activity in the marketing store.")
        return broker

    def publish(self, event: dict[str, Any]) -> None:
        """Queues what ``event`` records; returns at once, never raises."""
        try:
            recorded = recorded_from_event(event, self._catalog)
            if isinstance(recorded, Erasure):
                self._log.erase_user(recorded.user_id)
            elif recorded is not None:
                self._log.add(recorded)
        except Exception:  # a broker failure must not fail the turn
            logger.exception("Activity of an event not recorded.")

    def is_ready(self) -> bool:
        """Always ready: while the database is down, records are set aside."""
        return True

    async def close(self) -> None:
        """Writes or sets aside what is queued, then closes the store."""
        await asyncio.to_thread(self._log.close)
        if self._on_close is not None:
            self._on_close()
