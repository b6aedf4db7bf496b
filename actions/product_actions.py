"""Answers about one product or a category: information, price, and how to buy.

A question about a product, or asking to buy it, is a follow-up on its latest
recommendation: the reply carries a marker (:func:`marketing.followups.followup_marker`)
and the event stream logs the click or purchase, so the turn writes nothing for it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.marketing_action import MarketingAction
from catalog.budget import format_price
from catalog.formatting import (
    lines,
    price_text,
    product_details,
    product_line,
    promotion_titles,
)
from catalog.model import Product
from marketing.followups import followup_marker
from marketing.store import CLICK, PURCHASE
from marketing.tracking import tracked_url

# How many products a category overview lists.
CATEGORY_LIST_LENGTH = 5


def _focus_events(product: Product) -> list[dict[str, Any]]:
    # Remember the product so a follow-up such as "多少钱" is about it.
    return [
        SlotSet("product", product.name),
        SlotSet("product_category", product.category),
    ]


class ActionProductInfo(MarketingAction):
    """Describes the product asked about, or lists a category."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_product_info"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends a product card, a category overview, or asks which product."""
        product = await self.product_followed_up(tracker)
        if product is not None:
            promotions = self.catalog.promotions_for(product, self.today())
            response = (
                "utter_product_card"
                if product.stock > 0
                else "utter_product_card_sold_out"
            )
            dispatcher.utter_message(
                response=response,
                name=product.name,
                price=price_text(product),
                details=lines(product_details(product, promotions)),
                url=product.url,
                **followup_marker(product.id, CLICK),
            )
            return _focus_events(product)
        category = self.category_in_focus(tracker)
        if category is not None:
            products = self.catalog.products_in(category)
            top = sorted(products, key=lambda p: p.sales, reverse=True)
            items = [
                product_line(p, i) for i, p in enumerate(top[:CATEGORY_LIST_LENGTH], 1)
            ]
            dispatcher.utter_message(
                response="utter_category_overview",
                category=category,
                items="\n".join(items),
            )
            return [SlotSet("product_category", category)]
        dispatcher.utter_message(
            response="utter_ask_which_product",
            categories="、".join(self.catalog.category_names()),
        )
        return []


class ActionPriceInfo(MarketingAction):
    """Quotes the price of a product (with live offers) or a category's range."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_price_info"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends the price, a category price range, or asks which product."""
        product = await self.product_followed_up(tracker)
        if product is not None:
            offers = self.catalog.promotions_for(product, self.today())
            dispatcher.utter_message(
                response="utter_price" if product.stock > 0 else "utter_price_sold_out",
                name=product.name,
                price=price_text(product),
                offers=lines(promotion_titles(offers)),
                url=product.url,
                **followup_marker(product.id, CLICK),
            )
            return _focus_events(product)
        category = self.category_in_focus(tracker)
        products = self.catalog.products_in(category) if category else []
        if category is not None and products:
            low = min(p.price for p in products)
            high = max(p.price for p in products)
            cheapest_first = sorted(products, key=lambda p: p.price)
            dispatcher.utter_message(
                response="utter_category_prices",
                category=category,
                low=format_price(low),
                high=format_price(high),
                items="\n".join(
                    product_line(p, i) for i, p in enumerate(cheapest_first, 1)
                ),
            )
            return [SlotSet("product_category", category)]
        dispatcher.utter_message(response="utter_ask_which_price")
        return []


class ActionPurchaseGuide(MarketingAction):
    """Tells how to buy, with a direct link when the product is known."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_purchase_guide"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends the purchase link for the product in focus, or the general guide.

        Asking to buy a recommended item counts as its conversion (the shop's
        order callback can log real orders through ``servers.click_server``): the
        link carries the impression's tracking id, so that is looked up now; the
        purchase itself is logged from the event stream.
        """
        product = await self.product_followed_up(tracker)
        if product is None:
            dispatcher.utter_message(response="utter_purchase_guide")
            return []
        if product.stock <= 0:
            dispatcher.utter_message(
                response="utter_purchase_sold_out", name=product.name
            )
            return _focus_events(product)
        link, base = product.url, self.settings.tracking_base_url
        marker: dict[str, dict[str, str]] = {}
        tracking_id = await self.latest_showing(tracker, product.id)
        if tracking_id is not None:
            link = tracked_url(product.url, tracking_id, base)
            marker = followup_marker(product.id, PURCHASE, tracking_id)
        dispatcher.utter_message(
            response="utter_purchase_link",
            name=product.name,
            price=price_text(product),
            link=link,
            **marker,
        )
        return _focus_events(product)
