"""The share of negative messages per day, and an alert when it spikes (舆情预警).

Each follower message the NLU tagged with a sentiment is a row of ``activity``;
per (UTC) day, the share of them that were negative is a series. A day raises an
alert when all three hold (:class:`SpikeRule`, every default in one place):

- its share exceeds the trailing mean of the ``baseline_days`` before it by
  ``sigmas`` standard deviations (a jump, not a level that was always high);
- its share reaches ``min_share`` (a jump from 1% to 3% is no crisis);
- it had at least ``min_messages`` messages (three unhappy people are not a trend).

Only days with ``min_messages`` count for the baseline, and without
``min_baseline_days`` of them there is no baseline and no alert. Alerts are logged
(WARNING) and, where ``alert_webhook_url`` is set, POSTed there as JSON with a few
retries (:class:`AlertNotifier`); a webhook that is down never stops the caller.
No Rasa.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, case, func, select

from marketing.store import MarketingStore

logger = logging.getLogger(__name__)

NEGATIVE = "negative"
MESSAGE = "message"
WEBHOOK_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class DayShare:
    """Messages with a sentiment on one day, and how many were negative."""

    day: date
    messages: int
    negative: int

    @property
    def share(self) -> float:
        """Negative messages per message (0 on a day without any)."""
        return self.negative / self.messages if self.messages else 0.0


@dataclass(frozen=True)
class SpikeRule:
    """When a day's negative share is a spike worth an alert."""

    # Days before a day that make its baseline.
    baseline_days: int = 14
    # How many standard deviations above the baseline's mean a spike is.
    sigmas: float = 3.0
    # The least share that can raise an alert, whatever the baseline.
    min_share: float = 0.2
    # The least messages of a day for it to alert or count in a baseline.
    min_messages: int = 20
    # Baseline days (with min_messages each) needed before anything alerts.
    min_baseline_days: int = 3

    def __post_init__(self) -> None:
        if self.baseline_days < 1 or self.min_baseline_days < 1:
            raise ValueError("baseline_days and min_baseline_days must be >= 1")
        if self.min_baseline_days > self.baseline_days:
            raise ValueError("min_baseline_days cannot exceed baseline_days")
        if self.sigmas < 0:
            raise ValueError("sigmas must not be negative")
        if not 0 <= self.min_share <= 1:
            raise ValueError("min_share must be within 0..1")
        if self.min_messages < 1:
            raise ValueError("min_messages must be at least 1")


@dataclass(frozen=True)
class DayAssessment:
    """One day of the series, with its baseline and whether it alerts."""

    day: date
    messages: int
    negative: int
    share: float
    # Mean share of the baseline days; None without enough of them.
    baseline: float | None
    # The share above which the day alerts: max(mean + sigmas * sd, min_share).
    threshold: float | None
    alert: bool

    def describe(self) -> str:
        """One line for logs and chat webhooks (no personal data)."""
        baseline = "n/a" if self.baseline is None else f"{self.baseline:.0%}"
        threshold = "n/a" if self.threshold is None else f"{self.threshold:.0%}"
        return (
            f"舆情预警 {self.day.isoformat()}: {self.share:.0%} of {self.messages} "
            f"messages negative (baseline {baseline}, threshold {threshold})"
        )


def negative_share_by_day(
    store: MarketingStore, days: int, today: date | None = None
) -> list[DayShare]:
    """Messages and negative messages per UTC day, the ``days`` up to ``today``.

    Every day of the range is present, with zeros when nobody wrote.

    Args:
        store: The marketing store.
        days: How many days, ``today`` included.
        today: The last day (the store's clock by default).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    last = today or store.now().date()
    first = last - timedelta(days=days - 1)
    activity = store.table("activity")
    day = func.date(activity.c.created_at)
    query = (
        select(
            day,
            func.count(),
            func.sum(case((activity.c.sentiment == NEGATIVE, 1), else_=0)),
        )
        .where(
            and_(
                activity.c.kind == MESSAGE,
                activity.c.sentiment.is_not(None),
                activity.c.created_at >= datetime.combine(first, datetime.min.time()),
                activity.c.created_at
                < datetime.combine(last + timedelta(days=1), datetime.min.time()),
            )
        )
        .group_by(day)
    )
    with store.engine.connect() as connection:
        counts = {
            # SQLite's date() is text, PostgreSQL's a date.
            _as_date(row[0]): (int(row[1]), int(row[2] or 0))
            for row in connection.execute(query)
        }
    series = []
    for offset in range(days):
        current = first + timedelta(days=offset)
        messages, negative = counts.get(current, (0, 0))
        series.append(DayShare(current, messages, negative))
    return series


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def assess(series: Sequence[DayShare], rule: SpikeRule) -> list[DayAssessment]:
    """Each day of ``series`` (oldest first, one per day) against its baseline."""
    assessed = []
    for index, point in enumerate(series):
        window = series[max(0, index - rule.baseline_days) : index]
        trailing = [p.share for p in window if p.messages >= rule.min_messages]
        baseline = threshold = None
        alert = False
        if len(trailing) >= rule.min_baseline_days:
            baseline = statistics.fmean(trailing)
            jump = baseline + rule.sigmas * statistics.pstdev(trailing)
            threshold = max(jump, rule.min_share)
            alert = (
                point.messages >= rule.min_messages
                and point.share > jump
                and point.share >= rule.min_share
            )
        assessed.append(
            DayAssessment(
                point.day,
                point.messages,
                point.negative,
                point.share,
                baseline,
                threshold,
                alert,
            )
        )
    return assessed


def recent(
    share_by_day: Callable[[int], list[DayShare]], days: int, rule: SpikeRule
) -> list[DayAssessment]:
    """The last ``days`` days assessed, their baselines read from before them.

    Args:
        share_by_day: Reads the series of the last N days (oldest first).
        days: How many days to return.
        rule: The spike rule.
    """
    return assess(share_by_day(days + rule.baseline_days), rule)[-days:]


# Posts one JSON body to a URL; raises on failure.
Post = Callable[[str, dict[str, Any]], None]


def post_json(url: str, body: dict[str, Any]) -> None:
    """POSTs ``body`` as JSON; raises for a non-2xx answer or a network error."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


class AlertNotifier:
    """Logs alerts and posts them to the alert webhook, retrying, never raising.

    Args:
        webhook_url: Where alerts are posted (``alert_webhook_url``); None: logs only.
        attempts: Tries per alert.
        backoff_s: Wait before the second try, doubled before each next one.
        post: Sends one body (:func:`post_json` by default).
        sleep: Waits between tries.
    """

    def __init__(
        self,
        webhook_url: str | None,
        attempts: int = 3,
        backoff_s: float = 1.0,
        post: Post = post_json,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = webhook_url
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._post = post
        self._sleep = sleep

    def notify(self, alerts: Sequence[DayAssessment]) -> int:
        """Logs each alert and posts it; returns how many the webhook took."""
        delivered = 0
        for alert in alerts:
            logger.warning("%s", alert.describe())
            if self._url and self._deliver(self._url, alert):
                delivered += 1
        return delivered

    def _deliver(self, url: str, alert: DayAssessment) -> bool:
        body = {
            "type": "negative_sentiment_spike",
            "text": alert.describe(),
            **asdict(alert),
            "day": alert.day.isoformat(),
        }
        # The URL may carry a key (chat-robot webhooks): only its host is logged.
        host = urlsplit(url).hostname or "?"
        wait = self._backoff_s
        for attempt in range(1, self._attempts + 1):
            try:
                self._post(url, body)
                return True
            except Exception as e:  # any failure of the webhook: retry, then log
                logger.warning(
                    "Alert webhook on %s failed (try %d of %d): %s",
                    host,
                    attempt,
                    self._attempts,
                    type(e).__name__,
                )
            if attempt < self._attempts:
                self._sleep(wait)
                wait *= 2
        return False
