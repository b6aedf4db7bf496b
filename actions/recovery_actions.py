"""Service recovery after a complaint from an unhappy customer: a real coupon."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.marketing_action import MarketingAction
from marketing.coupons import Coupon, Coupons
from marketing.service_recovery import recovery_offer
from marketing.store import MarketingStore

logger = logging.getLogger(__name__)


class ActionOfferRecovery(MarketingAction):
    """Issues the apology coupon and tells its code; ``utter_offer_human`` follows.

    The coupon is stored before its code is told (``utter_recovery_coupon``): a
    second complaint within the recovery period gets the same code again, and
    one already used gets no new one (the apology and the agent still follow).
    With the store down no code can be stored, so none is promised:
    ``utter_recovery_offer_unavailable`` points to a human agent instead.

    Never an upsell: the offer is the recovery policy, not a promotion, so it
    goes to opted-out customers too.
    """

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_offer_recovery"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends the coupon (nothing when the catalog's policy offers none)."""
        offer = recovery_offer(self.catalog)
        if offer is not None:
            await tell_recovery_coupon(self, dispatcher, tracker.sender_id, offer)
        return []


async def tell_recovery_coupon(
    action: MarketingAction,
    dispatcher: CollectingDispatcher,
    sender: str,
    offer: str,
) -> None:
    """Issues ``sender``'s recovery coupon and tells its code and expiry.

    Shared by the complaint flow (:class:`ActionOfferRecovery`) and a
    recommendation that turns into service recovery for an unhappy customer.
    """
    days = action.settings.coupon_valid_days

    def issue(store: MarketingStore) -> tuple[Coupon, bool]:
        coupons = Coupons(store)
        coupon = coupons.issue_recovery(sender, offer, days)
        return coupon, coupons.usable(coupon)

    issued = await action.db(issue, fallback=None)
    if issued is None:
        logger.warning("Recovery coupon for %s not issued: store down.", sender)
        dispatcher.utter_message(response="utter_recovery_offer_unavailable")
        return
    coupon, usable = issued
    if not usable:
        logger.info("Recovery coupon of %s used or expired; no new one.", sender)
        return
    logger.info("Recovery coupon issued to sender %s.", sender)
    dispatcher.utter_message(
        response="utter_recovery_coupon",
        offer=offer,
        coupon_code=coupon.code,
        coupon_expiry=coupon.expiry_text(),
    )
