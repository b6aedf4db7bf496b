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

        A database outage keeps the slot (honoured in this conversation) and logs
        the error, so the turn goes on as usual.
        """
        sender = tracker.sender_id
        await self.db(lambda s: s.opt_out(sender), fallback=None)
        logger.info("Marketing opt-out recorded for sender %s.", sender)
        return [SlotSet(OPT_OUT_SLOT, True)]
