"""Lead capture: validate the name and mainland mobile number, then store the lead."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.marketing_action import CAMPAIGN_SLOT, MarketingAction, sentiment_of
from marketing.contact import clean_contact_name, mask_mobile, parse_mobile
from marketing.lead_scoring import LeadSignals, lead_score
from marketing.store import CLICK, PURCHASE, Interaction, Lead

logger = logging.getLogger(__name__)


def _address(name: str) -> str:
    # A bare surname ("王") reads as rude; add the polite form used in service chats.
    if len(name) == 1 and "\u4e00" <= name <= "\u9fff":
        return f"{name}先生/女士"
    return name


class ValidateLeadForm(FormValidationAction):  # type: ignore[misc]
    """Validates ``lead_form``: a usable name and an 11-digit mainland mobile."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "validate_lead_form"

    def validate_contact_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Keeps how to address the customer, or asks again."""
        name = clean_contact_name(slot_value) if isinstance(slot_value, str) else None
        if name is None:
            dispatcher.utter_message(response="utter_invalid_contact_name")
            return {"contact_name": None}
        return {"contact_name": _address(name)}

    def validate_phone_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Keeps a mainland mobile as 11 digits, or asks again."""
        number = parse_mobile(slot_value) if isinstance(slot_value, str) else None
        if number is None:
            dispatcher.utter_message(response="utter_invalid_phone_number")
            return {"phone_number": None}
        logger.info("Lead phone number accepted: %s", mask_mobile(number))
        return {"phone_number": number}


class ActionSubmitLead(MarketingAction):
    """Stores a completed lead form; ``utter_lead_received`` thanks the customer.

    The lead carries a consent flag (the number was given after the phone prompt
    said what it is used for), a marketing-consent flag (not opted out) and a
    score (:func:`marketing.lead_scoring.lead_score`). A campaign chosen when the
    customer asked to join one (``campaign_id``) is registered once.
    """

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_submit_lead"

    async def signals(self, tracker: Tracker) -> LeadSignals:
        """What the conversation and the store say about this customer."""
        sender = tracker.sender_id
        nothing: list[Interaction] = []
        history = await self.db(lambda s: s.history(sender), fallback=nothing)
        return LeadSignals(
            campaign=bool(tracker.get_slot(CAMPAIGN_SLOT)),
            product=bool(tracker.get_slot("product")),
            budget=bool(tracker.get_slot("budget")),
            clicks=sum(i.event == CLICK for i in history),
            purchase_intent=any(i.event == PURCHASE for i in history),
            sentiment=sentiment_of(tracker),
        )

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Stores the lead (number masked in logs) and any campaign sign-up."""
        sender = tracker.sender_id
        number = str(tracker.get_slot("phone_number") or "")
        campaign = tracker.get_slot(CAMPAIGN_SLOT)
        lead = Lead(
            user_id=sender,
            name=str(tracker.get_slot("contact_name") or ""),
            phone=number,
            consent=True,
            marketing_consent=not await self.opted_out(tracker),
            score=lead_score(await self.signals(tracker)),
            campaign=campaign if isinstance(campaign, str) else None,
        )
        await self.db(lambda s: s.add_lead(lead), fallback=None)
        if lead.campaign:
            joined = await self.db(
                lambda s: s.join_campaign(sender, str(lead.campaign)), fallback=False
            )
            logger.info("Campaign %s sign-up new: %s", lead.campaign, joined)
        logger.info(
            "Lead received from sender %s: %s (score %.2f)",
            sender,
            mask_mobile(number),
            lead.score,
        )
        return []
