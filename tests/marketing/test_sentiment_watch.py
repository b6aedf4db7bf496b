"""The negative share per day and its spike rule, on series made by hand."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from marketing.sentiment_watch import (
    AlertNotifier,
    DayAssessment,
    DayShare,
    SpikeRule,
    assess,
    negative_share_by_day,
    recent,
)
from marketing.store import MarketingStore

DAY0 = date(2026, 12, 1)
# Small numbers keep the arithmetic checkable by hand.
RULE = SpikeRule(baseline_days=4, sigmas=2.0, min_share=0.2, min_messages=10,
                 min_baseline_days=3)  # fmt: skip


def series(*days: tuple[int, int]) -> list[DayShare]:
    return [
        DayShare(DAY0 + timedelta(days=i), messages, negative)
        for i, (messages, negative) in enumerate(days)
    ]


def test_a_jump_above_mean_plus_k_sd_and_the_floor_alerts() -> None:
    # Baseline shares 0.1, 0.2, 0.1, 0.2: mean 0.15, population sd 0.05, so the
    # line is 0.15 + 2 * 0.05 = 0.25; 0.3 is above it.
    days = assess(series((10, 1), (10, 2), (10, 1), (10, 2), (10, 3)), RULE)
    last = days[-1]
    assert last.baseline == pytest.approx(0.15)
    assert last.threshold == pytest.approx(0.25)
    assert last.alert
    assert [d.alert for d in days[:-1]] == [False] * 4


def test_just_under_the_line_does_not_alert() -> None:
    # Same baseline, 0.25 is not above 0.25.
    days = assess(series((10, 1), (10, 2), (10, 1), (10, 2), (20, 5)), RULE)
    assert days[-1].share == pytest.approx(0.25)
    assert not days[-1].alert


def test_the_absolute_floor_holds_back_a_jump_from_a_low_level() -> None:
    # Baseline 0 with sd 0: 0.1 is a jump but under the 20% floor.
    days = assess(series((10, 0), (10, 0), (10, 0), (10, 0), (10, 1)), RULE)
    assert days[-1].threshold == pytest.approx(0.2)
    assert not days[-1].alert
    # The same jump to the floor alerts.
    assert assess(series((10, 0), (10, 0), (10, 0), (10, 0), (10, 2)), RULE)[-1].alert


def test_too_few_messages_never_alert_nor_count_for_the_baseline() -> None:
    days = assess(series((10, 1), (10, 1), (10, 1), (10, 1), (9, 9)), RULE)
    assert not days[-1].alert
    # A small day in the baseline is left out: its 100% does not raise the mean.
    days = assess(series((10, 1), (2, 2), (10, 1), (10, 1), (10, 1), (10, 5)), RULE)
    assert days[-1].baseline == pytest.approx(0.1)
    assert days[-1].alert


def test_without_enough_baseline_days_there_is_no_line() -> None:
    days = assess(series((10, 1), (10, 1), (10, 9)), RULE)
    assert [d.threshold for d in days] == [None, None, None]
    assert not any(d.alert for d in days)


def test_the_baseline_is_only_the_trailing_window() -> None:
    # An old spike (day 0) leaves the 4-day window before day 5.
    days = assess(series((10, 9), (10, 1), (10, 1), (10, 1), (10, 1), (10, 5)), RULE)
    assert days[-1].baseline == pytest.approx(0.1)
    assert days[-1].alert


def test_recent_reads_the_baseline_days_before_the_window() -> None:
    asked = []

    def share_by_day(days: int) -> list[DayShare]:
        asked.append(days)
        return series(*[(10, 1)] * (days - 1), (10, 5))

    days = recent(share_by_day, 2, RULE)
    assert asked == [2 + RULE.baseline_days]
    assert len(days) == 2 and days[-1].alert


@pytest.mark.parametrize(
    "kwargs",
    [{"baseline_days": 0}, {"min_baseline_days": 20}, {"sigmas": -1},
     {"min_share": 1.5}, {"min_messages": 0}],
)  # fmt: skip
def test_rules_that_make_no_sense_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SpikeRule(**kwargs)


def _message(
    day: datetime, sentiment: str | None, kind: str = "message"
) -> dict[str, Any]:
    return {"user_id": "o1", "kind": kind, "intent": None, "category": None,
            "sentiment": sentiment, "scene": None, "created_at": day}  # fmt: skip


@pytest.mark.parametrize("db", ["marketing_db", "postgres_db"])
def test_share_per_day_from_the_store(db: str, request: pytest.FixtureRequest) -> None:
    store: MarketingStore = request.getfixturevalue(db)
    today = date(2026, 11, 22)
    noon = datetime(2026, 11, 22, 12)
    rows = [
        _message(noon, "negative"),
        _message(noon, "negative"),
        _message(noon, "positive"),
        _message(noon, None),  # no sentiment: not counted
        _message(noon, "negative", kind="subscribe"),  # not a message
        _message(noon - timedelta(days=2), "neutral"),
        _message(noon - timedelta(days=2, hours=11, minutes=59), "negative"),
        _message(noon - timedelta(days=3), "negative"),  # before the range
        _message(noon + timedelta(days=1), "negative"),  # after it
    ]
    with store.engine.begin() as connection:
        connection.execute(store.table("activity").insert(), rows)
    got = negative_share_by_day(store, 3, today)
    assert got == [
        DayShare(date(2026, 11, 20), 2, 1),
        DayShare(date(2026, 11, 21), 0, 0),
        DayShare(date(2026, 11, 22), 3, 2),
    ]
    assert got[-1].share == pytest.approx(2 / 3)
    assert got[1].share == 0.0


def alert_day() -> DayAssessment:
    return DayAssessment(DAY0, 40, 20, 0.5, 0.1, 0.2, True)


def test_alerts_are_logged_and_posted(caplog: pytest.LogCaptureFixture) -> None:
    posted: list[tuple[str, dict[str, Any]]] = []
    notifier = AlertNotifier(
        "https://hooks.example/send?key=SECRET",
        post=lambda url, body: posted.append((url, body)),
    )
    with caplog.at_level(logging.WARNING):
        assert notifier.notify([alert_day()]) == 1
    assert "舆情预警 2026-12-01: 50% of 40 messages negative" in caplog.text
    [(url, body)] = posted
    assert url.endswith("key=SECRET")
    assert body["type"] == "negative_sentiment_spike"
    assert body["day"] == "2026-12-01" and body["share"] == 0.5
    assert "SECRET" not in caplog.text


def test_a_failing_webhook_is_retried_then_logged_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []
    waits: list[float] = []

    def post(url: str, body: dict[str, Any]) -> None:
        calls.append(url)
        raise ConnectionError("refused")

    notifier = AlertNotifier(
        "https://hooks.example/send?key=SECRET", attempts=3, backoff_s=1.0,
        post=post, sleep=waits.append,
    )  # fmt: skip
    with caplog.at_level(logging.WARNING):
        assert notifier.notify([alert_day()]) == 0
    assert len(calls) == 3
    assert waits == [1.0, 2.0]
    assert "hooks.example" in caplog.text and "SECRET" not in caplog.text


def test_a_webhook_that_recovers_delivers_once() -> None:
    answers = [OSError("HTTP 502"), None]

    def post(url: str, body: dict[str, Any]) -> None:
        if error := answers.pop(0):
            raise error

    notifier = AlertNotifier("https://hooks.example/", post=post, sleep=lambda s: None)
    assert notifier.notify([alert_day()]) == 1
    assert answers == []


def test_without_a_webhook_alerts_are_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def post(url: str, body: dict[str, Any]) -> None:
        raise AssertionError("nothing may be posted")

    with caplog.at_level(logging.WARNING):
        assert AlertNotifier(None, post=post).notify([alert_day()]) == 0
    assert "舆情预警" in caplog.text
