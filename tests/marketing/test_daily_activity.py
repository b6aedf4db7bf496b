"""Per follower and day: messages, events, intents, sentiment and actions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from marketing.daily_activity import (
    TOP_INTENTS,
    DayActivity,
    UserDay,
    daily_activity,
    user_days,
)
from marketing.event_records import recorded_from_event, write_recorded
from marketing.store import MarketingStore
from tests.marketing.rasa_events import action_event, user_event

DAY = date(2026, 12, 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MarketingStore]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_db")
        return
    sqlite = MarketingStore.from_url(f"sqlite:///{tmp_path / 'm.db'}")
    yield sqlite
    sqlite.engine.dispose()


def at(day: date, hour: float) -> float:
    moment = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc)
    return (moment + timedelta(hours=hour)).timestamp()


def stream(store: MarketingStore, *events: dict[str, Any]) -> None:
    """Records ``events`` as the event stream does."""
    items = [r for e in events if (r := recorded_from_event(e)) is not None]
    with store.engine.begin() as connection:
        write_recorded(connection, store, items)


def seed(store: MarketingStore) -> None:
    yesterday = DAY - timedelta(days=1)
    stream(
        store,
        user_event(intent="ask_price", sentiment="negative", timestamp=at(DAY, 9)),
        action_event("action_price_info", timestamp=at(DAY, 9.01)),
        user_event(intent="ask_price", sentiment="neutral", timestamp=at(DAY, 10)),
        action_event("action_price_info", timestamp=at(DAY, 10.01)),
        user_event(intent="greet", sentiment="positive", timestamp=at(DAY, 23.9)),
        user_event(
            text="/greet",
            intent="greet",
            wechat={"msg_type": "event", "event": "subscribe"},
            timestamp=at(DAY, 8),
        ),
        user_event(
            intent="ask_store", sender="o_other", sentiment=None, timestamp=at(DAY, 12)
        ),
        user_event(intent="greet", timestamp=at(yesterday, 22)),
        action_event("utter_greet", timestamp=at(yesterday, 22.01)),
    )


def test_each_followers_day(store: MarketingStore) -> None:
    seed(store)
    found = user_days(store, DAY - timedelta(days=1), DAY)
    assert found == [
        UserDay(
            messages=1, neutral=1, actions=1, intents={"greet": 1},
            day=DAY - timedelta(days=1), user_id="o_fan",
        ),
        UserDay(
            messages=3, events=1, positive=1, neutral=1, negative=1, actions=2,
            intents={"ask_price": 2, "greet": 1}, day=DAY, user_id="o_fan",
        ),
        UserDay(messages=1, intents={"ask_store": 1}, day=DAY, user_id="o_other"),
    ]  # fmt: skip
    only = user_days(store, DAY, DAY, user_id="o_other")
    assert [(d.user_id, d.messages) for d in only] == [("o_other", 1)]
    assert user_days(store, DAY + timedelta(days=1), DAY + timedelta(days=5)) == []


def test_days_of_all_followers_with_empty_days(store: MarketingStore) -> None:
    seed(store)
    found = daily_activity(store, 3, today=DAY + timedelta(days=1))
    assert found == [
        DayActivity(
            messages=1, neutral=1, actions=1, intents={"greet": 1},
            day=DAY - timedelta(days=1), followers=1,
        ),
        DayActivity(
            messages=4, events=1, positive=1, neutral=1, negative=1, actions=2,
            intents={"ask_price": 2, "ask_store": 1, "greet": 1},
            day=DAY, followers=2,
        ),
        DayActivity(day=DAY + timedelta(days=1)),
    ]  # fmt: skip


def test_a_day_names_only_its_top_intents(store: MarketingStore) -> None:
    events = [
        user_event(intent=f"intent_{n}", timestamp=at(DAY, 9) + n * 10 + k)
        for n in range(TOP_INTENTS + 2)
        for k in range(n + 1)
    ]
    stream(store, *events)
    (day,) = daily_activity(store, 1, today=DAY)
    assert list(day.intents) == [f"intent_{n}" for n in range(6, 1, -1)]
    assert day.messages == len(events)
    with pytest.raises(ValueError):
        daily_activity(store, 0)
