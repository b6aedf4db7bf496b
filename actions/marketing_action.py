"""The base of marketing actions: the store, the opt-out rule and safe database calls.

A database that is down must never cost the customer a reply: every store read
goes through :meth:`MarketingAction.db`, which runs it in a worker thread, logs
a database error and returns a fallback value. Writes that must not be lost
(leads, opt-outs, sign-ups, deletions) go through :meth:`MarketingAction.keep`:
the database, else the durable outbox (:mod:`marketing.outbox`), whose queued
writes are replayed first, and whenever the store connects again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from abc import ABC
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, TypeVar

from rasa_sdk import Tracker
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_action import CatalogAction
from catalog.model import Catalog, Product
from marketing.connection import LazyStore, StoreFactory, StoreUnavailable
from marketing.followups import FOLLOWUP_WINDOW
from marketing.outbox import Kept, MarketingOutbox, Write, keep
from marketing.sales_webhook import lead_hook
from marketing.settings import Settings, data_cipher, load_settings
from marketing.store import IMPRESSION, Interaction, MarketingStore, utc_now
from marketing.tracking import Shown, impressions
from outbox.queue import DurableQueue, QueueError
from privacy.cipher import DataCipher
from telemetry import metrics

logger = logging.getLogger(__name__)

OPT_OUT_SLOT = "marketing_opt_out"
# The campaign the customer asked to join (set by action_list_campaigns).
CAMPAIGN_SLOT = "campaign_id"
T = TypeVar("T")
# Threads of marketing-store calls, apart from the loop's default ones.
_DATABASE_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="marketing-db")


class MarketingAction(CatalogAction, ABC):
    """A catalog action that reads or writes the marketing store.

    Args:
        catalog: The catalog (``data/catalog.yml`` by default).
        today: The clock for promotions and campaigns.
        store: Makes the store (the configured database, connected on first use,
            by default).
        settings: The marketing settings (``load_settings()`` by default).
        cipher: Encrypts phone numbers at rest (from ``settings`` by default).
        outbox: Where writes wait while the database is down (the queue file of
            ``settings.outbox_path`` by default, owing good leads to sales when
            ``settings.sales_webhook_url`` is set).

    Raises:
        marketing.settings.SettingsError: The settings are unusable (in
            production: no data key), so the action server does not start.
        outbox.queue.QueueError: The outbox file cannot be opened.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        today: Callable[[], date] = date.today,
        store: StoreFactory | None = None,
        settings: Settings | None = None,
        cipher: DataCipher | None = None,
        outbox: MarketingOutbox | None = None,
    ) -> None:
        super().__init__(catalog, today)
        self.settings = settings or load_settings()
        self.cipher = cipher or data_cipher(self.settings)
        self.outbox = outbox or MarketingOutbox(
            DurableQueue(self.settings.outbox_path),
            on_lead=lead_hook(self.settings),
        )
        self._store_factory = store or LazyStore(
            self.settings.database_url,
            connect=functools.partial(MarketingStore.from_url, cipher=self.cipher),
            on_connect=self.outbox.replay,
        )

    async def db(self, call: Callable[[MarketingStore], T], fallback: T) -> T:
        """Runs ``call(store)`` off the event loop; a database error falls back.

        Only database errors (SQLAlchemy's, or a store that failed moments ago)
        give ``fallback``; a bug in store code propagates to the action's
        boundary (an apology and a traceback), not into a wrong answer.

        Args:
            call: What to do with the store.
            fallback: What to return when the database fails.

        Returns:
            The call's result, or ``fallback``.
        """

        def work() -> T:
            return call(self._store_factory())

        try:
            return await self._in_database_thread(work)
        except (SQLAlchemyError, StoreUnavailable):
            logger.exception(
                "Marketing store unavailable in '%s'; replying without it.",
                self.name(),
            )
        except asyncio.TimeoutError:
            logger.error(
                "Marketing store did not answer within %.1f s in '%s'; replying "
                "without it.",
                self.settings.database_timeout_s,
                self.name(),
            )
        metrics.DATABASE_FALLBACKS.labels(metrics.READ).inc()
        return fallback

    async def _in_database_thread(self, work: Callable[[], T]) -> T:
        """``work()`` in the database threads, for at most ``database_timeout_s``.

        A hung database (connected, never answering) would block a thread for
        good: the calls have their own threads, so the event loop's default ones
        (the outbox) stay free, and the turn goes on after the timeout.

        Raises:
            asyncio.TimeoutError: No answer in time (the thread may still finish).
        """
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(_DATABASE_THREADS, work),
                self.settings.database_timeout_s,
            )
        except asyncio.TimeoutError:
            # Later calls fail fast instead of each waiting (LazyStore.fail).
            fail = getattr(self._store_factory, "fail", None)
            if callable(fail):
                fail()
            raise

    async def keep(self, write: Write) -> Kept:
        """Stores ``write`` in the database, else in the outbox, off the event loop.

        Returns:
            Where it went; :attr:`Kept.LOST` only when neither would take it
            (then the customer must not be told it was done).
        """
        try:
            return _counted(
                await self._in_database_thread(
                    functools.partial(keep, write, self._store_factory, self.outbox)
                )
            )
        except asyncio.TimeoutError:
            logger.error(
                "Marketing store did not answer within %.1f s; %s goes to the outbox.",
                self.settings.database_timeout_s,
                write.kind,
            )
        # Replays are idempotent: should the hung call still land, nothing doubles.
        try:
            await asyncio.to_thread(self.outbox.put, write)
        except QueueError:
            logger.exception(
                "%s lost: neither database nor outbox took it.", write.kind
            )
            return _counted(Kept.LOST)
        return _counted(Kept.QUEUED)

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

    async def latest_showing(self, tracker: Tracker, item_id: str) -> str | None:
        """The tracking id of the item's latest impression within the window.

        Only read: the click or purchase itself is logged from the event stream,
        off the turn, when the reply carries a follow-up marker
        (:func:`marketing.followups.followup_marker`).
        """
        sender, since = tracker.sender_id, self.now() - FOLLOWUP_WINDOW
        nothing: list[Interaction] = []
        history = await self.db(lambda s: s.history(sender, since), fallback=nothing)
        shown = [i for i in history if i.item_id == item_id and i.event == IMPRESSION]
        return shown[-1].tracking_id if shown else None

    async def recently_shown(self, tracker: Tracker) -> list[str]:
        """Item ids of the latest recommendation, in the order shown."""
        sender, since = tracker.sender_id, self.now() - FOLLOWUP_WINDOW
        nothing: list[Interaction] = []
        history = await self.db(lambda s: s.history(sender, since), fallback=nothing)
        shown = [i for i in history if i.event == IMPRESSION]
        if not shown:
            return []
        # One recommendation is logged in one go, with one timestamp.
        return [i.item_id for i in shown if i.created_at == shown[-1].created_at]

    async def product_followed_up(self, tracker: Tracker) -> Product | None:
        """The product in focus, or the n-th of the latest list ("买第一款").

        The list position comes from this turn's ``position`` entity.
        """
        product = self.product_in_focus(tracker)
        if product is not None:
            return product
        values = tracker.get_latest_entity_values("position")
        position = next((n for v in values if (n := ordinal(str(v)))), None)
        if position is None:
            return None
        shown = await self.recently_shown(tracker)
        if not 0 < position <= len(shown):
            return None
        return self.catalog.product(shown[position - 1])

    async def opted_out(self, tracker: Tracker) -> bool:
        """Whether the customer unsubscribed: the slot, else the store.

        When the store cannot answer, the customer counts as opted out: a missed
        promotion costs less than one sent against their wish.
        """
        if tracker.get_slot(OPT_OUT_SLOT) is True:
            return True
        sender = tracker.sender_id
        return await self.db(lambda s: s.is_opted_out(sender), fallback=True)


# A ``position`` entity value: "第一款", "第 2 个", "三", "1".
_POSITION = re.compile(
    r"第?\s*(\d{1,2}|[一二两三四五六七八九十])\s*(?:款|个|台|种|件|部|只|副|项)?"
)
_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", 1)} | {"两": 2}
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def ordinal(value: str) -> int | None:
    """The 1-based list position a ``position`` entity value names, if any.

    Normalises the value NLU extracted ("第一款" -> 1, "第2个" -> 2); finding the
    position in a message is NLU's job.
    """
    match = _POSITION.fullmatch(value.strip().translate(_FULL_WIDTH_DIGITS))
    if match is None:
        return None
    token = match.group(1)
    number = int(token) if token.isdigit() else _NUMERALS[token]
    return number or None


def sentiment_of(tracker: Tracker) -> str | None:
    """The ``sentiment`` slot (``positive``, ``neutral``, ``negative``) or ``None``."""
    value: Any = tracker.get_slot("sentiment")
    return value if isinstance(value, str) else None


def _counted(kept: Kept) -> Kept:
    """``kept``, counted in ``aurora_database_fallbacks_total`` unless stored."""
    if kept is Kept.QUEUED:
        metrics.DATABASE_FALLBACKS.labels(metrics.OUTBOX).inc()
    elif kept is Kept.LOST:
        metrics.DATABASE_FALLBACKS.labels(metrics.LOST).inc()
    return kept
