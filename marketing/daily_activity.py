"""Messages, intents, sentiment and actions per follower and day, from the stream.

The event stream (the activity broker, or ``aurora-marketing consume-events`` in
a cluster) writes a row of ``activity`` per follower message or WeChat event and
one of ``action_runs`` per action the bot ran. This module counts them per UTC
day: :func:`user_days` per follower (``aurora-marketing activity``),
:func:`daily_activity` over all followers (the dashboard's ``/api/activity``).

A *message* is what the follower asked: a text or voice message or a menu click
(``activity.kind`` ``message`` or ``menu``); subscribe, scan and unsubscribe are
*events*. Sentiment and intents are those of the messages. No Rasa.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, case, func, select
from sqlalchemy.sql.expression import ColumnElement

from marketing.activity import MENU, MESSAGE
from marketing.store import MarketingStore

# The intents a day of the dashboard names, most frequent first.
TOP_INTENTS = 5
SENTIMENTS = ("positive", "neutral", "negative")
_ASKING = (MESSAGE, MENU)


@dataclass
class Counts:
    """What happened in one day (of one follower, or of all)."""

    messages: int = 0
    events: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    actions: int = 0
    # Messages per intent, most frequent first.
    intents: dict[str, int] = field(default_factory=dict)


@dataclass
class UserDay(Counts):
    """One follower's day (UTC)."""

    day: date = date.min
    user_id: str = ""


@dataclass
class DayActivity(Counts):
    """One day (UTC) of all followers; ``followers``: how many sent a message."""

    day: date = date.min
    followers: int = 0


def user_days(
    store: MarketingStore, first: date, last: date, user_id: str | None = None
) -> list[UserDay]:
    """Each follower's days with a message, event or action, ``first``..``last``.

    Args:
        store: The marketing store.
        first: The first UTC day.
        last: The last UTC day (included).
        user_id: Only this follower.

    Returns:
        By day, then follower.
    """
    found: dict[tuple[Any, ...], UserDay] = {}

    def at(key: tuple[Any, ...]) -> UserDay:
        if key not in found:
            found[key] = UserDay(day=key[0], user_id=str(key[1]))
        return found[key]

    for key, counts in _tally(store, first, last, by_user=True, user_id=user_id):
        _merge(at(key), counts)
    return [found[key] for key in sorted(found)]


def daily_activity(
    store: MarketingStore, days: int, today: date | None = None
) -> list[DayActivity]:
    """The ``days`` UTC days up to ``today``, oldest first, every day present.

    Each day names its :data:`TOP_INTENTS` most frequent intents.

    Args:
        store: The marketing store.
        days: How many days, ``today`` included.
        today: The last day (the store's clock by default).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    last = today or store.now().date()
    first = last - timedelta(days=days - 1)
    series = {
        first + timedelta(days=n): DayActivity(day=first + timedelta(days=n))
        for n in range(days)
    }
    for key, counts in _tally(store, first, last, by_user=False):
        day = series[key[0]]
        _merge(day, counts)
    activity = store.table("activity")
    writers = (
        select(_day(activity), func.count(func.distinct(activity.c.user_id)))
        .where(activity.c.kind.in_(_ASKING), *_within(activity, first, last))
        .group_by(_day(activity))
    )
    with store.engine.connect() as connection:
        for row in connection.execute(writers):
            series[_as_date(row[0])].followers = int(row[1])
    for day in series.values():
        day.intents = dict(Counter(day.intents).most_common(TOP_INTENTS))
    return list(series.values())


def _tally(
    store: MarketingStore,
    first: date,
    last: date,
    by_user: bool,
    user_id: str | None = None,
) -> list[tuple[tuple[Any, ...], Counts]]:
    """Counts keyed by ``(day,)`` or ``(day, user_id)``, one entry per query row."""
    activity, actions = store.table("activity"), store.table("action_runs")
    asking = activity.c.kind.in_(_ASKING)

    def keys(table: Table) -> list[ColumnElement[Any]]:
        return [_day(table), table.c.user_id] if by_user else [_day(table)]

    def where(table: Table) -> list[ColumnElement[bool]]:
        found = _within(table, first, last)
        return [*found, table.c.user_id == user_id] if user_id is not None else found

    def count(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    per_kind = select(
        *keys(activity),
        count(asking),
        count(~asking),
        *(count(asking & (activity.c.sentiment == s)) for s in SENTIMENTS),
    ).where(*where(activity))
    per_intent = select(*keys(activity), activity.c.intent, func.count()).where(
        asking, activity.c.intent.is_not(None), *where(activity)
    )
    ran = select(*keys(actions), func.count()).where(*where(actions))
    width = len(keys(activity))
    tallied: list[tuple[tuple[Any, ...], Counts]] = []
    with store.engine.connect() as connection:
        for row in connection.execute(per_kind.group_by(*keys(activity))):
            # In the order of the select: asking, not, then SENTIMENTS' order.
            messages, events, positive, neutral, negative = (
                int(v or 0) for v in row[width:]
            )
            counts = Counts(messages, events, positive, neutral, negative)
            tallied.append((_key(row, width), counts))
        grouped = per_intent.group_by(*keys(activity), activity.c.intent)
        for row in connection.execute(grouped):
            intents = {str(row[width]): int(row[width + 1])}
            tallied.append((_key(row, width), Counts(intents=intents)))
        for row in connection.execute(ran.group_by(*keys(actions))):
            tallied.append((_key(row, width), Counts(actions=int(row[width]))))
    return tallied


def _merge(into: Counts, counts: Counts) -> None:
    into.messages += counts.messages
    into.events += counts.events
    into.positive += counts.positive
    into.neutral += counts.neutral
    into.negative += counts.negative
    into.actions += counts.actions
    for intent, n in counts.intents.items():
        into.intents[intent] = into.intents.get(intent, 0) + n
    into.intents = dict(sorted(into.intents.items(), key=lambda kv: (-kv[1], kv[0])))


def _day(table: Table) -> ColumnElement[Any]:
    return func.date(table.c.created_at)


def _within(table: Table, first: date, last: date) -> list[ColumnElement[bool]]:
    start = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    return [table.c.created_at >= start, table.c.created_at < end]


def _key(row: Sequence[Any], width: int) -> tuple[Any, ...]:
    return (_as_date(row[0]), *row[1:width])


def _as_date(value: object) -> date:
    # SQLite's date() is text, PostgreSQL's a date.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
