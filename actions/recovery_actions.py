"""Service recovery after a complaint from an unhappy customer."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog_action import CatalogAction
from marketing.service_recovery import recovery_offer

logger = logging.getLogger(__name__)


class ActionOfferRecovery(CatalogAction):
    """Offers the apology coupon; ``utter_offer_human`` offers the agent next.

    Never an upsell: the offer is the recovery policy, not a promotion, so it
    goes to opted-out customers too.
    """

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_offer_recovery"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends the recovery offer (nothing when the catalog has no coupon)."""
        offer = recovery_offer(self.catalog)
        if offer is None:
            return []
        logger.info("Service recovery offered to sender %s.", tracker.sender_id)
        dispatcher.utter_message(response="utter_recovery_offer", offer=offer)
        return []
