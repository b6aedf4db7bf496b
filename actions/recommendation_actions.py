"""Product recommendations in the chat."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import latest_text
from actions.budget import format_price
from actions.catalog import CATEGORIES
from actions.catalog_action import CatalogAction
from actions.recommender import Query, closest_over_budget, matched_tags, recommend
from actions.replies import product_line


class ActionRecommendProducts(CatalogAction):
    """Recommends in-stock products by category, budget and stated needs."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_recommend_products"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends the top picks, an honest relaxed suggestion, or asks the category."""
        category = self.category_in_focus(tracker)
        budget = self.budget_in_focus(tracker)
        query = Query(category=category, budget=budget, text=latest_text(tracker))
        picks = recommend(self.catalog.products, query)
        if category is None:
            lines = [
                "人气好物先看看👇",
                *(product_line(p, i) for i, p in enumerate(picks, 1)),
            ]
            lines.append("想看哪一类？直接告诉小极，比如“3000以内的手机”。")
            buttons = [
                {
                    "title": c,
                    "payload": f'/request_recommendation{{"product_category": "{c}"}}',
                }
                for c in CATEGORIES
            ]
            dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
            return []
        events: list[dict[str, Any]] = [SlotSet("product_category", category)]
        if not picks:
            fallback = closest_over_budget(self.catalog.products, query)
            if fallback is None:
                dispatcher.utter_message(
                    text=f"抱歉，{category}暂时都缺货了😥 可以留个电话，到货通知您。"
                )
            else:
                dispatcher.utter_message(
                    text=(
                        f"{format_price(budget or 0)}以内暂时没有合适的{category}😥 "
                        f"最接近的是：\n{product_line(fallback)}\n要看看吗？"
                    )
                )
            return events
        budget_note = f"{format_price(budget)}以内" if budget else ""
        lines = [f"为您挑了{budget_note}这几款{category}👇"]
        for index, product in enumerate(picks, 1):
            line = product_line(product, index)
            needs = matched_tags(product, query.text)
            if needs:
                line += f"（适合{'、'.join(needs)}）"
            lines.append(line)
        lines.append("回复序号或型号了解详情，或者说“买第一款”～")
        dispatcher.utter_message(text="\n".join(lines))
        return events
