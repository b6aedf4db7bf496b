"""Live promotions and campaigns from the catalog."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import Promotion
from actions.catalog_action import CatalogAction
from actions.replies import campaign_line, promotion_line

NO_PROMOTION = "目前暂时没有进行中的优惠活动😥 关注公众号，新活动上线第一时间通知您！"
NO_CAMPAIGN = "目前暂时没有可报名的活动，新活动上线会第一时间在公众号通知～"


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
            dispatcher.utter_message(text=NO_PROMOTION)
            return []
        if subject and matching:
            header = f"{subject}正在参加这些活动🎉"
        elif subject:
            header = f"{subject}暂时没有专属优惠，不过这些全场活动正在进行🎉"
            matching = [
                p for p in live if not p.categories and not p.product_ids
            ] or live
        else:
            header = "正在进行的优惠活动🎉"
        lines = [header, *(promotion_line(p) for p in matching)]
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionListCampaigns(CatalogAction):
    """Lists the campaigns a customer can sign up for today."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_list_campaigns"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends the open campaigns or says there are none."""
        open_campaigns = self.catalog.live_campaigns(self.today())
        if not open_campaigns:
            dispatcher.utter_message(text=NO_CAMPAIGN)
            return []
        lines = ["这些活动正在报名中✨", *(campaign_line(c) for c in open_campaigns)]
        dispatcher.utter_message(text="\n".join(lines))
        return []
