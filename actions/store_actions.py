"""Offline store locations and opening hours."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import latest_value
from actions.catalog_action import CatalogAction
from catalog.formatting import store_line


class ActionStoreInfo(CatalogAction):
    """Lists the stores in the customer's city, or the cities that have stores."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_store_info"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Sends the stores of the city in focus, or asks for the city."""
        cities = self.catalog.cities()
        city = latest_value(tracker, "city")
        if city is None:
            dispatcher.utter_message(
                text=f"我们在{'、'.join(cities)}都有门店～您在哪个城市呢？小极帮您查地址和营业时间。"
            )
            return []
        stores = self.catalog.stores_in(city)
        if not stores:
            dispatcher.utter_message(
                text=(
                    f"抱歉，{city}暂时还没有极光门店😥 "
                    f"目前开店的城市：{'、'.join(cities)}。"
                    "线上商城全国包邮，也欢迎在小程序下单～"
                )
            )
            return [SlotSet("city", city)]
        lines = [f"{city}的极光门店👇", *(store_line(s) for s in stores)]
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("city", city)]
