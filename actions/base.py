"""The shared base of our actions: every turn gets a reply, even when one fails."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from telemetry.metrics import ACTION_ERRORS, action_label

logger = logging.getLogger(__name__)

# Said when an action breaks, so the customer is never left without an answer.
APOLOGY_RESPONSE = "utter_action_failed"


class SafeAction(Action, ABC):  # type: ignore[misc]
    """An action whose unexpected errors are logged and answered with an apology.

    Subclasses implement :meth:`respond`; :meth:`run` is the boundary that rasa-sdk
    calls and that must never raise into the dialogue.
    """

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Runs :meth:`respond`, turning any error into an apology."""
        try:
            return await self.respond(dispatcher, tracker, domain)
        except Exception:  # the action's boundary: an apology, never a crash
            logger.exception("Action '%s' failed; apologising instead.", self.name())
            ACTION_ERRORS.labels(action_label(self.name())).inc()
            dispatcher.utter_message(response=APOLOGY_RESPONSE)
            return []

    @abstractmethod
    async def respond(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Sends the action's messages and returns its events."""


def latest_value(tracker: Tracker, entity: str) -> str | None:
    """The entity's value in the latest message, else the slot of the same name.

    Entities of this turn win over slots from earlier turns, so "那 X5 呢" after a
    question about another product is about the X5.
    """
    values: Iterable[Any] = tracker.get_latest_entity_values(entity)
    for value in values:
        if value not in (None, ""):
            return str(value)
    slot = tracker.get_slot(entity)
    return str(slot) if slot not in (None, "") else None


def latest_text(tracker: Tracker) -> str:
    """The text of the latest user message ('' when there is none).

    For free-text uses only (the recommender ranks products by similarity to the
    customer's words). Never search it for products, budgets, positions or
    campaigns: NLU extracts those as entities (``latest_value``).
    """
    text = tracker.latest_message.get("text") if tracker.latest_message else None
    return text if isinstance(text, str) else ""
