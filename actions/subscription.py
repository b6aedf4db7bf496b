"""Marketing opt-out: once a customer unsubscribes, promotional actions stay quiet.

Two turns run ``action_unsubscribe``: a typed unsubscribe (退订) once the customer
confirms it, followed by ``utter_unsubscribed`` (data/stories.yml), and a WeChat
unfollow (``/unfollow``), followed by nothing, as the user can no longer receive
messages (data/rules.yml). The action itself says nothing in either.

The opt-out is kept twice: on the conversation (``marketing_opt_out``, for the
dialogue) and in the marketing store (for every channel and later sessions).
Promotional actions check both (:meth:`MarketingAction.opted_out`).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.marketing_action import OPT_OUT_SLOT, MarketingAction
from marketing.outbox import Write

logger = logging.getLogger(__name__)

__all__ = ["OPT_OUT_SLOT", "ActionUnsubscribe"]


class ActionUnsubscribe(MarketingAction):
    """Records the opt-out on the conversation and in the store."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_unsubscribe"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sets the opt-out slot and stores it, without a message of its own.

        While the database is down the opt-out waits in the outbox and is
        written when it is back; the slot honours it in this conversation
        meanwhile, whatever happened to the write.
        """
        kept = await self.keep(Write.opt_out(tracker.sender_id, self.now()))
        logger.info("Marketing opt-out of %s: %s.", tracker.sender_id, kept.value)
        return [SlotSet(OPT_OUT_SLOT, True)]
