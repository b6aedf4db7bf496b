"""Live promotions and campaigns from the catalog."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import latest_text
from actions.catalog_action import CatalogAction
from actions.marketing_action import CAMPAIGN_SLOT, MarketingAction
from catalog.formatting import campaign_line, promotion_line
from catalog.model import Campaign, Promotion

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


def chosen_campaign(campaigns: list[Campaign], text: str) -> Campaign | None:
    """The campaign named in ``text``, else the first that needs a sign-up."""
    folded = text.casefold()
    named = [c for c in campaigns if c.title.casefold() in folded]
    named = named or [
        c for c in campaigns if any(w in folded for w in _keywords(c.title))
    ]
    candidates = named or [c for c in campaigns if c.requires_contact]
    return candidates[0] if candidates else None


def _keywords(title: str) -> list[str]:
    # Four-character slices of a title ("体验官招", "预约抽奖") as loose matches.
    return [title[i : i + 4].casefold() for i in range(max(len(title) - 3, 0))]


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
            dispatcher.utter_message(text=NO_CAMPAIGN)
            return []
        lines = ["这些活动正在报名中✨", *(campaign_line(c) for c in open_campaigns)]
        chosen = chosen_campaign(open_campaigns, latest_text(tracker))
        sender = tracker.sender_id
        none: set[str] = set()
        joined = await self.db(lambda s: s.campaigns_of(sender), fallback=none)
        if chosen is not None and chosen.id in joined:
            lines.append(f"您已经报名了「{chosen.title}」，无需重复报名😊")
        elif chosen is not None:
            lines.append(f"可以为您报名「{chosen.title}」～")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet(CAMPAIGN_SLOT, chosen.id if chosen else None)]
