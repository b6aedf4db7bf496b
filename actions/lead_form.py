"""Lead capture: validate the name and mainland mobile number, then confirm."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import SafeAction
from actions.contact import clean_contact_name, mask_mobile, parse_mobile

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


class ActionSubmitLead(SafeAction):
    """Records a completed lead form; ``utter_lead_received`` thanks the customer."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_submit_lead"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Logs the lead with the number masked."""
        number = tracker.get_slot("phone_number") or ""
        logger.info(
            "Lead received from sender %s: %s", tracker.sender_id, mask_mobile(number)
        )
        return []
