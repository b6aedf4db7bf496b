"""Marketing opt-out: once a customer unsubscribes, promotional actions stay quiet."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import SafeAction

logger = logging.getLogger(__name__)

OPT_OUT_SLOT = "marketing_opt_out"


class ActionUnsubscribe(SafeAction):
    """Records the opt-out on the conversation (``marketing_opt_out``)."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_unsubscribe"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sets the opt-out slot; the confirmation is the next response."""
        logger.info("Marketing opt-out recorded for sender %s.", tracker.sender_id)
        return [SlotSet(OPT_OUT_SLOT, True)]
