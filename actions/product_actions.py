"""Answers about one product or a category: information, price, and how to buy."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.marketing_action import MarketingAction
from catalog.budget import format_price
from catalog.formatting import price_text, product_card, product_line
from catalog.model import CATEGORIES, Product
from marketing.store import CLICK, PURCHASE
from marketing.tracking import tracked_url

# How many products a category overview lists.
CATEGORY_LIST_LENGTH = 5
PURCHASE_GUIDE = (
    "下单方式：点击公众号菜单「极光商城」进入小程序，加入购物车后即可支付，"
    "支持微信支付和信用卡/花呗分期（3/6/12 期）。"
)


def _ask_which_product() -> str:
    return (
        f"您想了解哪款产品呢？我们有{'、'.join(CATEGORIES)}，告诉小极型号或类别就行～"
    )


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
            await self.track_followup(tracker, product.id, CLICK)
            promotions = self.catalog.promotions_for(product, self.today())
            dispatcher.utter_message(text=product_card(product, promotions))
            return _focus_events(product)
        category = self.category_in_focus(tracker)
        if category is not None:
            products = self.catalog.products_in(category)
            top = sorted(products, key=lambda p: p.sales, reverse=True)
            lines = [f"我们的{category}有这些👇"]
            lines += [
                product_line(p, i) for i, p in enumerate(top[:CATEGORY_LIST_LENGTH], 1)
            ]
            lines.append("想详细了解哪一款？回复型号即可。")
            dispatcher.utter_message(text="\n".join(lines))
            return [SlotSet("product_category", category)]
        dispatcher.utter_message(text=_ask_which_product())
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
            await self.track_followup(tracker, product.id, CLICK)
            lines = [f"{product.name} 现价 {price_text(product)}"]
            lines += [
                f"🎁 {p.title}"
                for p in self.catalog.promotions_for(product, self.today())
            ]
            if product.stock <= 0:
                lines.append("⚠️ 目前暂时缺货，可以留个电话，到货第一时间通知您。")
            lines.append(f"👉 {product.url}")
            dispatcher.utter_message(text="\n".join(lines))
            return _focus_events(product)
        category = self.category_in_focus(tracker)
        products = self.catalog.products_in(category) if category else []
        if category is not None and products:
            low = min(p.price for p in products)
            high = max(p.price for p in products)
            price_range = f"{format_price(low)} - {format_price(high)}"
            lines = [f"我们的{category}价格在 {price_range} 之间："]
            cheapest_first = sorted(products, key=lambda p: p.price)
            lines += [product_line(p, i) for i, p in enumerate(cheapest_first, 1)]
            dispatcher.utter_message(text="\n".join(lines))
            return [SlotSet("product_category", category)]
        dispatcher.utter_message(
            text="想查哪款产品的价格呢？告诉小极型号就行，比如“X5 Pro多少钱”。"
        )
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
        order callback can log real orders through ``servers.click_server``).
        """
        product = await self.product_followed_up(tracker)
        if product is None:
            dispatcher.utter_message(text=PURCHASE_GUIDE)
            return []
        link = product.url
        if product.stock > 0:
            tracking_id = await self.track_followup(tracker, product.id, PURCHASE)
            if tracking_id is not None:
                base = self.settings.tracking_base_url
                link = tracked_url(product.url, tracking_id, base)
        if product.stock <= 0:
            dispatcher.utter_message(
                text=(
                    f"{product.name} 目前暂时缺货😥 回复“留电话”登记到货通知，"
                    "或者让小极给您推荐同类在售的产品～"
                )
            )
        else:
            dispatcher.utter_message(
                text=(
                    f"{product.name} {price_text(product)}，"
                    f"点这里直接下单👉 {link}\n{PURCHASE_GUIDE}"
                )
            )
        return _focus_events(product)
