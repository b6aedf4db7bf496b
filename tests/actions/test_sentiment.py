from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.sentiment import ActionSetSentiment, sentiment_of


def _tracker(parse_data: dict[str, object], slot: str | None = None) -> Tracker:
    slots = {"sentiment": slot}
    return Tracker("u1", slots, parse_data, [], False, None, {}, "action_listen")


@pytest.mark.parametrize(
    ("label", "before", "expected"),
    [
        ("positive", None, [SlotSet("sentiment", "positive")]),
        ("negative", "positive", [SlotSet("sentiment", "negative")]),
        ("neutral", "negative", [SlotSet("sentiment", None)]),
        ("neutral", None, []),
        ("negative", "negative", []),
    ],
)
async def test_slot_follows_nlu_sentiment(
    label: str, before: str | None, expected: list[dict[str, object]]
) -> None:
    parse: dict[str, object] = {"text": "x", "sentiment": {"name": label}}
    tracker = _tracker(parse, before)

    events = await ActionSetSentiment().run(CollectingDispatcher(), tracker, {})

    assert events == expected


@pytest.mark.parametrize(
    "parse",
    [
        {},
        {"sentiment": None},
        {"sentiment": {"name": "angry"}},
        {"sentiment": "negative"},
    ],
)
async def test_no_or_unknown_sentiment_leaves_the_slot(
    parse: dict[str, object],
) -> None:
    dispatcher = CollectingDispatcher()
    assert await ActionSetSentiment().run(dispatcher, _tracker(parse), {}) == []
    assert dispatcher.messages == []
    assert sentiment_of(parse) is None
