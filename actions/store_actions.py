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
                response="utter_ask_city", cities="、".join(cities)
            )
            return []
        stores = self.catalog.stores_in(city)
        if not stores:
            dispatcher.utter_message(
                response="utter_no_store_in_city", city=city, cities="、".join(cities)
            )
            return [SlotSet("city", city)]
        dispatcher.utter_message(
            response="utter_stores_in_city",
            city=city,
            items="\n".join(store_line(s) for s in stores),
        )
        return [SlotSet("city", city)]
