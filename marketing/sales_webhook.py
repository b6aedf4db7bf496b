"""Sales hear of good leads: a signed JSON post per lead, retried until taken.

A stored lead scoring at least ``sales_webhook_min_score`` is owed to sales
(:func:`lead_hook`, run by the marketing outbox wherever a lead is written; a
row of :mod:`marketing.lead_notifications`). :class:`SalesNotifier` posts what
is due to ``sales_webhook_url``: the lead's ref, name, *masked* number, score,
campaign and time, never the number in clear, signed like the shop's order
callback (``X-Aurora-Signature: sha256=<HMAC-SHA256 of the body>`` keyed with
``sales_webhook_secret``, the body carrying a Unix ``timestamp``). A failed post
waits ``base_delay_s``, then twice as long each time (at most ``max_delay_s``);
after ``max_attempts`` tries the notification is ``failed`` and logged as an
error. The action server runs the notifier in a background thread;
``aurora-marketing leads notify`` runs it once on demand. Sales should treat
the ``ref`` as the key: a post whose answer was lost is posted again. No Rasa.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from marketing.connection import StoreFactory
from marketing.lead_notifications import (
    DueNotification,
    LeadHook,
    LeadNotifications,
    sales_lead_hook,
)
from marketing.outbox import DATABASE_DOWN
from marketing.periodic import Periodic
from marketing.settings import Settings
from marketing.signing import SIGNATURE_HEADER, sign_body

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BASE_DELAY_S = 30.0
DEFAULT_MAX_DELAY_S = 3600.0
# One post may take this long; a claimed notification is reserved for it.
DEFAULT_TIMEOUT_S = 10.0
# How often the background thread looks for due notifications.
DEFAULT_INTERVAL_S = 15.0
# Notifications posted per run; the rest follow on the next run.
BATCH = 50


class DeliveryError(RuntimeError):
    """The sales webhook did not take a post; the message says why."""


def lead_hook(settings: Settings) -> LeadHook | None:
    """What the marketing outbox runs with each stored lead: ``None`` without a URL."""
    if not settings.sales_webhook_url:
        return None
    return sales_lead_hook(settings.sales_webhook_min_score)


@dataclass(frozen=True)
class SalesWebhook:
    """Where and how leads are posted.

    Args:
        url: The sales team's endpoint.
        secret: The key of the body's HMAC-SHA256 signature.
        timeout_s: How long one post may take.
        clock: Unix time now (the body's ``timestamp``).
    """

    url: str
    secret: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    clock: Callable[[], float] = time.time

    def post(self, lead: dict[str, object]) -> None:
        """Posts ``lead`` (a 2xx answer means taken).

        Raises:
            DeliveryError: No answer, or not a 2xx one.
        """
        body = json.dumps(
            {"event": "lead", "timestamp": int(self.clock()), "lead": lead},
            ensure_ascii=False,
        ).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                SIGNATURE_HEADER: sign_body(self.secret, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                answer.read(1024)
        except urllib.error.HTTPError as e:
            raise DeliveryError(f"HTTP {e.code} {e.reason}") from e
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise DeliveryError(f"unreachable: {reason}") from e


@dataclass(frozen=True)
class NotifyReport:
    """What one run of the notifier did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


class SalesNotifier(Periodic):
    """Posts due lead notifications to the sales webhook, with backoff.

    Args:
        store: Makes the marketing store (a ``LazyStore`` in the action server).
        webhook: Where leads go.
        max_attempts: Tries before a notification is given up.
        base_delay_s: The wait after the first failed try (doubling after each).
        max_delay_s: The longest wait between tries.
        interval_s: How often the background thread runs.
        clock: The time notifications are due by (the store's by default).
    """

    def __init__(
        self,
        store: StoreFactory,
        webhook: SalesWebhook,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        base_delay_s: float = DEFAULT_BASE_DELAY_S,
        max_delay_s: float = DEFAULT_MAX_DELAY_S,
        interval_s: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__("sales-notifier", interval_s)
        self._store = store
        self._webhook = webhook
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, store: StoreFactory) -> SalesNotifier:
        """The notifier ``settings`` configure.

        Raises:
            ValueError: ``sales_webhook_url`` is not set.
        """
        if not settings.sales_webhook_url or not settings.sales_webhook_secret:
            raise ValueError("sales_webhook_url (AURORA_SALES_WEBHOOK_URL) is not set")
        webhook = SalesWebhook(
            settings.sales_webhook_url, settings.sales_webhook_secret
        )
        return cls(store, webhook)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed try."""
        seconds = self._base_delay_s * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self._max_delay_s))

    def run_once(self) -> NotifyReport:
        """Posts every due notification once.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: The database failed.
            marketing.connection.StoreUnavailable: It failed moments ago.
        """
        notifications = LeadNotifications(self._store(), self._clock)
        sent = retried = failed = 0
        lease = timedelta(seconds=self._webhook.timeout_s * 2)
        for notice in notifications.due(BATCH):
            if not notifications.claim(notice, lease):
                continue  # another notifier has it
            outcome = self._post(notifications, notice)
            sent += outcome == "sent"
            retried += outcome == "retry"
            failed += outcome == "failed"
        return NotifyReport(sent, retried, failed)

    def _post(self, notifications: LeadNotifications, notice: DueNotification) -> str:
        if notice.lead is None:
            notifications.give_up(notice, "the lead is no longer stored")
            return "failed"
        try:
            self._webhook.post(notice.lead)
        except DeliveryError as e:
            attempts = notice.attempts + 1
            if attempts >= self._max_attempts:
                notifications.give_up(notice, str(e))
                logger.error(
                    "Lead %s not notified to sales after %d tries; given up (%s).",
                    notice.lead_ref,
                    attempts,
                    e,
                )
                return "failed"
            now = self._clock() if self._clock else self._store().now()
            notifications.retry(notice, str(e), now + self.delay(attempts))
            logger.warning(
                "Lead %s: sales webhook failed (try %d: %s); retried later.",
                notice.lead_ref,
                attempts,
                e,
            )
            return "retry"
        notifications.sent(notice)
        logger.info("Lead %s notified to sales.", notice.lead_ref)
        return "sent"

    def _run_guarded(self) -> None:
        try:
            self.run_once()
        except DATABASE_DOWN as e:
            logger.debug("Sales notifications wait: store unavailable (%s).", e)
        except Exception:  # the thread must outlive any one bad run
            logger.exception("Sales notifier run failed.")
