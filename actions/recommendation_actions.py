"""Product recommendations in the chat, over :mod:`recommender.hybrid`.

The action reads what the customer asked (category, budget, free text), what
the store knows about them (history, opt-out) and their mood, asks for what is
missing, and sends the top picks as a numbered list plus a WeChat 图文 payload
whose links carry tracking ids; every pick is logged as an impression.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import latest_text
from actions.marketing_action import MarketingAction, sentiment_of
from actions.recovery_actions import tell_recovery_coupon
from catalog.budget import format_price, parse_budget
from catalog.formatting import product_line
from catalog.model import Catalog, Product
from catalog.news import news_payload
from marketing.connection import StoreFactory
from marketing.service_recovery import recovery_offer
from marketing.settings import Settings
from marketing.store import CLICK, IMPRESSION, PURCHASE, Interaction
from marketing.tracking import show
from recommender.hybrid import (
    CONTENT_STRATEGY,
    HybridRecommender,
    Profile,
    Recommendation,
    Recommender,
)
from recommender.query import Query, matched_tags

# The collaborative model is rebuilt from the store at most this often.
RECOMMENDER_TTL_S = 300.0


def _profile(
    history: list[Interaction], opted_out: bool, sentiment: str | None
) -> Profile:
    def items(event: str) -> tuple[str, ...]:
        return tuple(i.item_id for i in history if i.event == event)

    def times(event: str) -> tuple[datetime, ...]:
        return tuple(i.created_at for i in history if i.event == event)

    return Profile(
        clicked=items(CLICK),
        purchased=items(PURCHASE),
        shown=items(IMPRESSION),
        opted_out=opted_out,
        sentiment=sentiment,
        clicked_at=times(CLICK),
        purchased_at=times(PURCHASE),
    )


class ActionRecommendProducts(MarketingAction):
    """Recommends in-stock products by need, history, popularity and mood.

    Args:
        catalog: The catalog.
        today: The clock for live promotions.
        store: Makes the marketing store.
        settings: The marketing settings.
        recommender: A fixed recommender (default: the hybrid one, rebuilt from
            the store's feedback every ``RECOMMENDER_TTL_S`` seconds).
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        today: Callable[[], date] = date.today,
        store: StoreFactory | None = None,
        settings: Settings | None = None,
        recommender: Recommender | None = None,
    ) -> None:
        super().__init__(catalog, today, store, settings)
        self._recommender = recommender
        self._built: tuple[float, Recommender] | None = None

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_recommend_products"

    async def recommender(self) -> Recommender:
        """The injected recommender, else the hybrid one over fresh feedback."""
        if self._recommender is not None:
            return self._recommender
        if self._built is None or time.monotonic() - self._built[0] > RECOMMENDER_TTL_S:
            nothing: list[Interaction] = []
            feedback = await self.db(lambda s: s.feedback(), fallback=nothing)
            triples = [(i.user_id, i.item_id, i.event) for i in feedback]
            minimum = self.settings.cf_min_interactions
            # Fitting ALS is CPU work: keep it off the event loop.
            built = await asyncio.to_thread(
                HybridRecommender,
                self.catalog.products,
                triples,
                min_interactions=minimum,
            )
            self._built = (time.monotonic(), built)
        return self._built[1]

    def _budget_unclear(self, tracker: Tracker, budget: float | None) -> bool:
        # A budget entity this turn that does not read as money: ask again.
        values = [str(v) for v in tracker.get_latest_entity_values("budget")]
        return (
            budget is None
            and bool(values)
            and all(parse_budget(v) is None for v in values)
        )

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends picks, recovery, an honest relaxed suggestion, or asks the category."""
        category = self.category_in_focus(tracker)
        budget = self.budget_in_focus(tracker)
        # The customer's words are ranking input (TF-IDF similarity and tags such
        # as 拍照 or 续航 in recommender.hybrid), not a source of entities: the
        # category and budget above come from NLU's entities and the slots.
        query = Query(category=category, budget=budget, text=latest_text(tracker))
        opted_out = await self.opted_out(tracker)
        sender = tracker.sender_id
        nothing: list[Interaction] = []
        history = await self.db(lambda s: s.history(sender), fallback=nothing)
        profile = _profile(history, opted_out, sentiment_of(tracker))
        if not opted_out:
            profile = replace(profile, promoted=self._promoted())
        result = (await self.recommender()).recommend(query, profile)
        if result.recovery:
            offer = recovery_offer(self.catalog)
            dispatcher.utter_message(response="utter_service_recovery_no_coupon")
            if offer is not None:
                # The same code as before when one was issued already (one
                # recovery coupon per period): told again, never promised blind.
                await tell_recovery_coupon(self, dispatcher, sender, offer)
            return []
        if category is None:
            await self._popular(dispatcher, tracker, result)
            return []
        events: list[dict[str, Any]] = [SlotSet("product_category", category)]
        if not result.products:
            dispatcher.utter_message(
                response="utter_recommendation_sold_out", category=category
            )
            return events
        if result.relaxed:
            fallback = result.products[0]
            await self._send(
                dispatcher,
                tracker,
                [fallback],
                result.strategy,
                response="utter_recommendation_over_budget",
                budget_text=format_price(budget or 0),
                category=category,
                items=product_line(fallback),
            )
            return events
        if self._budget_unclear(tracker, budget):
            response = "utter_recommendation_budget_unclear"
        elif budget is None:
            response = "utter_recommendation"
        else:
            response = "utter_recommendation_within_budget"
        items = [
            product_line(product, index, matched_tags(product, query.text))
            for index, product in enumerate(result.products, 1)
        ]
        await self._send(
            dispatcher,
            tracker,
            list(result.products),
            result.strategy,
            response=response,
            budget_text=format_price(budget or 0),
            category=category,
            items="\n".join(items),
        )
        return events

    def _promoted(self) -> frozenset[str]:
        live = self.catalog.live_promotions(self.today())
        return frozenset(
            p.id for p in self.catalog.products if any(x.applies_to(p) for x in live)
        )

    async def _popular(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, result: Recommendation
    ) -> None:
        buttons = [
            {
                "title": c,
                "payload": f'/request_recommendation{{"product_category": "{c}"}}',
            }
            for c in self.catalog.category_names()
        ]
        base = self.settings.tracking_base_url
        shown = show([(p.id, p.url) for p in result.products], base)
        dispatcher.utter_message(
            response="utter_popular_products",
            items="\n".join(
                product_line(p, i) for i, p in enumerate(result.products, 1)
            ),
            buttons=buttons,
        )
        await self.log_shown(tracker, shown, result.strategy or CONTENT_STRATEGY)

    async def _send(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        products: list[Product],
        variant: str,
        response: str,
        **variables: str,
    ) -> None:
        # The list as a domain response, plus the same picks as a 图文 (news).
        base = self.settings.tracking_base_url
        shown = show([(p.id, p.url) for p in products], base)
        payload = news_payload(products, [s.url for s in shown])
        dispatcher.utter_message(response=response, json_message=payload, **variables)
        await self.log_shown(tracker, shown, variant)
