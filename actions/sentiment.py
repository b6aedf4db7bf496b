"""Keeps the ``sentiment`` slot equal to the mood NLU read in the latest message.

The slot's ``custom`` mapping names this action, so Rasa's ``action_extract_slots``
runs it once per user turn: stories, rules and every action see the current mood
without code of their own.

A neutral message empties the slot instead of setting "neutral": stories and rules
written without mood annotations then still match word for word (Rasa's
memoization compares whole dialogue states), and only a positive or negative
message, the moods worth branching on, adds a feature. The full scores stay in
``tracker.latest_message["sentiment_ranking"]``.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from nlu.constants import SENTIMENT, SENTIMENT_LABELS

NEUTRAL = "neutral"


def sentiment_of(parse_data: dict[str, Any]) -> str | None:
    """The sentiment label NLU put on a parsed message, if it is a known one."""
    sentiment = parse_data.get(SENTIMENT)
    label = sentiment.get("name") if isinstance(sentiment, dict) else None
    return label if label in SENTIMENT_LABELS else None


class ActionSetSentiment(Action):  # type: ignore[misc]
    """Copies NLU's sentiment onto the ``sentiment`` slot every turn."""

    def name(self) -> str:
        """Action name used in the slot mapping."""
        return "action_set_sentiment"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Sets the slot (None when neutral); without a sentiment it is kept."""
        label = sentiment_of(tracker.latest_message or {})
        if label is None:
            return []
        value = None if label == NEUTRAL else label
        if tracker.get_slot(SENTIMENT) == value:
            return []
        return [SlotSet(SENTIMENT, value)]
