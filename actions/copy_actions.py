"""Marketing copy in the chat (``action_generate_reply``).

After the live promotions are listed, one short copy promotes the offer that
fits the conversation best: the product or category in focus, else the live
campaign open for sign-up, else the first live promotion. The copy is one a
marketer approved for that offer in the customer's tone, else the template
(:mod:`copywriting.chat_copy`): nothing is generated while the customer waits,
and a store that is down means the template. Opted-out customers get no copy;
an unhappy customer gets the calm tone. Every copy is logged as an impression
with its variant (``template`` or ``copy-<draft id>``) and campaign.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.marketing_action import MarketingAction, sentiment_of
from catalog.model import Catalog
from copywriting.brief import subject_brief
from copywriting.chat_copy import chat_copy
from copywriting.checks import DraftChecker
from copywriting.request import CopyRequest, tone_for
from marketing.connection import StoreFactory
from marketing.copy_drafts import CopyDrafts, StoredDraft
from marketing.settings import Settings
from marketing.tracking import show


class ActionGenerateReply(MarketingAction):
    """Sends one approved (or template) copy for the best-fitting live offer.

    Args:
        catalog: The catalog.
        today: The clock for live promotions and campaigns.
        store: Makes the marketing store.
        settings: The marketing settings.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        today: Callable[[], date] = date.today,
        store: StoreFactory | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(catalog, today, store, settings)
        self._checker: DraftChecker | None = None

    @property
    def checker(self) -> DraftChecker:
        """Checks approved copy against today's facts (built with the catalog)."""
        if self._checker is None:
            self._checker = DraftChecker(self.catalog)
        return self._checker

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_generate_reply"

    def request_for(self, tracker: Tracker) -> tuple[CopyRequest, str] | None:
        """What to write about and where the copy links to, or ``None``."""
        today, tone = self.today(), tone_for(sentiment_of(tracker))
        product = self.product_in_focus(tracker)
        if product is not None and product.in_stock:
            offers = self.catalog.promotions_for(product, today)
            facts = (
                product.description,
                *(f"{o.title}：{o.description}" for o in offers),
            )
            offer_id = offers[0].id if offers else None
            request = CopyRequest(
                "product", product.id, product.name, facts, tone, offer_id
            )
            return request, product.url
        category = self.category_in_focus(tracker)
        live = self.catalog.live_promotions(today)
        fitting = [p for p in live if category and category in p.categories]
        campaigns = self.catalog.live_campaigns(today)
        if not fitting and campaigns:
            chosen = campaigns[0]
            facts = (chosen.description, f"奖励：{chosen.reward}")
            request = CopyRequest(
                "campaign", chosen.id, chosen.title, facts, tone, chosen.id
            )
            return request, ""
        promotions = fitting or live
        if not promotions:
            return None
        promotion = promotions[0]
        period = f"活动时间 {promotion.start:%m/%d}-{promotion.end:%m/%d}"
        facts = (promotion.description, period)
        request = CopyRequest(
            "promotion", promotion.id, promotion.title, facts, tone, promotion.id
        )
        return request, ""

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends and logs the copy; silent for opted-out customers or no offer."""
        if await self.opted_out(tracker):
            return []
        found = self.request_for(tracker)
        if found is None:
            return []
        request, url = found
        none: list[StoredDraft] = []
        approved = await self.db(
            lambda s: CopyDrafts(s).approved_for(request.item_id, request.tone), none
        )
        today = self.today()
        facts = subject_brief(request.item_id, self.catalog, today, request.tone)

        def holds(text: str) -> bool:
            return not self.checker.check(text, facts)

        copy = chat_copy(request, approved, tracker.sender_id, today, holds)
        shown = show([(request.item_id, url)], self.settings.tracking_base_url)
        text = copy.text + (f"\n👉 {shown[0].url}" if url else "")
        dispatcher.utter_message(text=text)
        await self.log_shown(tracker, shown, copy.variant, request.campaign)
        return []
