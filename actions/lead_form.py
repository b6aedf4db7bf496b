"""Lead capture: a name, two separate consents and a mainland mobile, then the lead.

``lead_form`` asks how to address the customer, then whether we may call them
back about this request (``callback_consent``), then the number, then,
separately, whether they want promotions (``marketing_consent``; not asked once
they have opted out, and no is fine). Without the callback yes no number is
asked for, and one given already is dropped: ``action_submit_lead`` tells the
customer nothing was kept. With it, the lead is stored with its number
encrypted and both answers timestamped, in the database or, while it is down,
in the outbox; the customer is thanked only then, and the tracker keeps only
the masked number (``138****5678``) from then on.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.marketing_action import (
    CAMPAIGN_SLOT,
    OPT_OUT_SLOT,
    MarketingAction,
    sentiment_of,
)
from marketing.contact import (
    clean_contact_name,
    is_masked_mobile,
    mask_mobile,
    parse_mobile,
)
from marketing.lead_scoring import LeadSignals, lead_score
from marketing.leads import Lead, seal
from marketing.outbox import Kept, Write
from marketing.store import CLICK, PURCHASE, Interaction

logger = logging.getLogger(__name__)

PHONE_SLOT = "phone_number"
CALLBACK_CONSENT_SLOT = "callback_consent"
MARKETING_CONSENT_SLOT = "marketing_consent"
# Lead refs derived from the conversation: a retried action stores the lead once.
_LEAD_REF_NAMESPACE = uuid.UUID("6c1f7d4e-2a55-4c8e-9a53-0b8f3f1d2e71")


def _address(name: str) -> str:
    # A bare surname ("王") reads as rude; add the polite form used in service chats.
    if len(name) == 1 and "\u4e00" <= name <= "\u9fff":
        return f"{name}先生/女士"
    return name


class ValidateLeadForm(FormValidationAction):  # type: ignore[misc]
    """Validates ``lead_form``: a usable name, the consents, a mainland mobile."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "validate_lead_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The domain's slots, less those a no or an opt-out makes pointless.

        No callback consent: no number and no marketing question. Opted out:
        no marketing question (its answer could not be honoured).
        """
        skipped: set[str] = set()
        if tracker.get_slot(CALLBACK_CONSENT_SLOT) is False:
            skipped |= {PHONE_SLOT, MARKETING_CONSENT_SLOT}
        if tracker.get_slot(OPT_OUT_SLOT) is True:
            skipped.add(MARKETING_CONSENT_SLOT)
        return [slot for slot in domain_slots if slot not in skipped]

    def validate_callback_consent(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Keeps the answer; a no also drops any number given already."""
        if slot_value is True:
            return {CALLBACK_CONSENT_SLOT: True}
        return {CALLBACK_CONSENT_SLOT: False, PHONE_SLOT: None}

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
        """Keeps a mainland mobile as 11 digits, or asks again.

        The masked number an earlier lead left in the slot is asked for again,
        without a complaint: it is no number anyone can call.
        """
        if isinstance(slot_value, str) and is_masked_mobile(slot_value):
            return {"phone_number": None}
        number = parse_mobile(slot_value) if isinstance(slot_value, str) else None
        if number is None:
            dispatcher.utter_message(response="utter_invalid_phone_number")
            return {"phone_number": None}
        logger.info("Lead phone number accepted: %s", mask_mobile(number))
        return {"phone_number": number}


class ActionSubmitLead(MarketingAction):
    """Stores a completed lead form and tells the customer what became of it.

    ``utter_lead_received`` when the lead is in the database or the outbox,
    ``utter_lead_not_stored`` without the callback consent, ``utter_lead_failed``
    when neither would take it. The lead carries both consents with their time
    (marketing consent ``False`` when the customer said no or has opted out)
    and a score (:func:`marketing.lead_scoring.lead_score`). A campaign chosen
    when the customer asked to join one (``campaign_id``) is registered once.
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

    async def lead(self, tracker: Tracker, number: str) -> Lead:
        """The lead of this form, answers timestamped now."""
        now = self.now()
        answer = tracker.get_slot(MARKETING_CONSENT_SLOT)
        campaign = tracker.get_slot(CAMPAIGN_SLOT)
        return Lead(
            user_id=tracker.sender_id,
            name=str(tracker.get_slot("contact_name") or ""),
            phone=number,
            consent=True,
            consent_at=now,
            marketing_consent=answer is True and not await self.opted_out(tracker),
            marketing_consent_at=now if answer is not None else None,
            score=lead_score(await self.signals(tracker)),
            campaign=campaign if isinstance(campaign, str) else None,
            ref=lead_ref(tracker),
        )

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Stores the lead (number sealed) and any campaign sign-up."""
        # Consent covers this request only: a next lead asks again.
        events = [
            SlotSet(CALLBACK_CONSENT_SLOT, None),
            SlotSet(MARKETING_CONSENT_SLOT, None),
        ]
        number = parse_mobile(str(tracker.get_slot(PHONE_SLOT) or ""))
        if tracker.get_slot(CALLBACK_CONSENT_SLOT) is not True or number is None:
            dispatcher.utter_message(response="utter_lead_not_stored")
            return [SlotSet(PHONE_SLOT, None), *events]
        lead = await self.lead(tracker, number)
        kept = await self.keep(Write.lead(seal(lead, self.cipher, self.now())))
        logger.info(
            "Lead %s (%s, score %.2f, marketing consent %s): %s.",
            lead.ref,
            mask_mobile(number),
            lead.score,
            lead.marketing_consent,
            kept.value,
        )
        if kept is Kept.LOST:
            dispatcher.utter_message(response="utter_lead_failed")
            return [SlotSet(PHONE_SLOT, None), *events]
        if lead.campaign:
            signup = Write.signup(lead.user_id, lead.campaign, self.now())
            logger.info(
                "Campaign %s sign-up: %s.",
                lead.campaign,
                (await self.keep(signup)).value,
            )
        dispatcher.utter_message(response="utter_lead_received", contact_name=lead.name)
        return [SlotSet(PHONE_SLOT, mask_mobile(number)), *events]


def lead_ref(tracker: Tracker) -> str:
    """An id of the lead, the same when the action runs again for the same turn.

    Derived from the conversation and the time of its latest user message;
    random when the tracker carries no events (tests, a tracker without history).
    """
    stamp = next(
        (
            e.get("timestamp")
            for e in reversed(tracker.events)
            if e.get("event") == "user"
        ),
        None,
    )
    if stamp is None:
        return uuid.uuid4().hex
    return uuid.uuid5(_LEAD_REF_NAMESPACE, f"{tracker.sender_id}:{stamp}").hex
