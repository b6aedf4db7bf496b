"""Keeps the ``sentiment`` slot equal to the mood NLU read in the latest message.

The slot's ``custom`` mapping names this action, so Rasa's ``action_extract_slots``
runs it once per user turn: stories, rules and every action see the current mood
without code of their own.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from components.constants import SENTIMENT, SENTIMENT_LABELS


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
        """Sets the slot; without a sentiment from NLU the slot keeps its value."""
        label = sentiment_of(tracker.latest_message or {})
        return [SlotSet(SENTIMENT, label)] if label is not None else []
