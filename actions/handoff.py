"""转人工: the customer asked for a human agent, and gets one.

``action_handoff`` (rule "hand off to a human agent" in data/rules.yml) says
``utter_handoff`` and sends :data:`wechat.handoff.HANDOFF_PAYLOAD`: the WeChat
channel transfers the message to the agents' workbench with WeChat's
``transfer_customer_service`` and keeps the bot silent for this user until the
agent closes the session or ``handoff_timeout_s`` passes (``channels.turns``).
Channels that know no agents ignore the payload and show the sentence.

A handoff silences the bot for this customer, so an unsure guess must not start
one: below :data:`MIN_CONFIDENCE` (a voice message transcribed oddly, a name
that looks like a request) the customer is asked first (``utter_offer_human``);
their "人工" or the menu's 转人工 (``/request_human``, confidence 1) transfers.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import SafeAction
from wechat.handoff import HANDOFF_PAYLOAD

logger = logging.getLogger(__name__)

# The NLU confidence in request_human at which the transfer starts without asking.
MIN_CONFIDENCE = 0.8
REQUEST_HUMAN = "request_human"
# Set while the customer is asked whether they want an agent (domain.yml).
OFFERED_SLOT = "handoff_offered"


class ActionHandoff(SafeAction):
    """Tells the customer an agent takes over and the channel to transfer them."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_handoff"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """``utter_handoff``, then the handoff signal for the channel."""
        intent = tracker.latest_message.get("intent") or {}
        unsure = float(intent.get("confidence") or 0.0) < MIN_CONFIDENCE
        if intent.get("name") == REQUEST_HUMAN and unsure:
            dispatcher.utter_message(response="utter_offer_human")
            return [SlotSet(OFFERED_SLOT, True)]
        logger.info("Sender %s handed over to a human agent.", tracker.sender_id)
        dispatcher.utter_message(response="utter_handoff")
        dispatcher.utter_message(json_message=HANDOFF_PAYLOAD)
        return [SlotSet(OFFERED_SLOT, False)]
