"""Live promotions and campaigns from the catalog."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog_action import CatalogAction
from actions.marketing_action import CAMPAIGN_SLOT, MarketingAction
from catalog.formatting import campaign_line, promotion_line
from catalog.model import Campaign, Promotion


class ActionListPromotions(CatalogAction):
    """Lists live promotions, narrowed to the product or category asked about."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_list_promotions"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends the matching live promotions, or all live ones, or says none."""
        today = self.today()
        live = self.catalog.live_promotions(today)
        product = self.product_in_focus(tracker)
        category = self.category_in_focus(tracker)
        matching: list[Promotion]
        if product is not None:
            matching = self.catalog.promotions_for(product, today)
            subject = product.name
        elif category is not None:
            matching = [p for p in live if not p.categories or category in p.categories]
            subject = category
        else:
            matching, subject = live, ""
        if not live:
            dispatcher.utter_message(response="utter_no_promotion")
            return []
        if subject and matching:
            response = "utter_promotions_for"
        elif subject:
            response = "utter_promotions_storewide"
            matching = [
                p for p in live if not p.categories and not p.product_ids
            ] or live
        else:
            response = "utter_promotions"
        dispatcher.utter_message(
            response=response,
            subject=subject,
            items="\n".join(promotion_line(p) for p in matching),
        )
        return []


def chosen_campaign(
    campaigns: list[Campaign], named: list[Campaign]
) -> Campaign | None:
    """The first open campaign the customer named, else the first needing a sign-up.

    Args:
        campaigns: The campaigns open today.
        named: The campaigns of this turn's ``campaign`` entities.
    """
    candidates = [c for c in named if c in campaigns]
    candidates = candidates or [c for c in campaigns if c.requires_contact]
    return candidates[0] if candidates else None


class ActionListCampaigns(MarketingAction):
    """Lists the campaigns open today and picks the one to sign up for.

    The chosen campaign goes into ``campaign_id``; the lead form registers it
    (once per customer). A customer already registered is told so.
    """

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_list_campaigns"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends the open campaigns or says there are none."""
        open_campaigns = self.catalog.live_campaigns(self.today())
        if not open_campaigns:
            dispatcher.utter_message(response="utter_no_campaign")
            return []
        values = tracker.get_latest_entity_values("campaign")
        named = [c for v in values if (c := self.catalog.find_campaign(str(v)))]
        chosen = chosen_campaign(open_campaigns, named)
        sender = tracker.sender_id
        none: set[str] = set()
        joined = await self.db(lambda s: s.campaigns_of(sender), fallback=none)
        if chosen is None:
            response = "utter_campaigns"
        elif chosen.id in joined:
            response = "utter_campaigns_already_joined"
        else:
            response = "utter_campaigns_sign_up"
        dispatcher.utter_message(
            response=response,
            items="\n".join(campaign_line(c) for c in open_campaigns),
            campaign=chosen.title if chosen else "",
        )
        return [SlotSet(CAMPAIGN_SLOT, chosen.id if chosen else None)]
