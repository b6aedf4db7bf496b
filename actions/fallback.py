"""Two-stage fallback in Chinese: "您是想「询问价格」吗？" instead of English."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import SafeAction

# The question that confirms an intent is the domain.yml response
# ``utter_ask_affirmation_<intent>`` (with "yes" and "neither" buttons); an intent
# without one is not offered for confirmation.
AFFIRMATION_PREFIX = "utter_ask_affirmation_"
FALLBACK_INTENT = "nlu_fallback"


def intent_to_affirm(parse_data: dict[str, Any]) -> str | None:
    """The intent to ask about: the top one, or the runner-up of a fallback."""
    intent = (parse_data.get("intent") or {}).get("name")
    if intent == FALLBACK_INTENT:
        ranking = parse_data.get("intent_ranking") or []
        candidates = [
            r.get("name") for r in ranking if r.get("name") != FALLBACK_INTENT
        ]
        intent = candidates[0] if candidates else None
    return intent if isinstance(intent, str) else None


def affirm_payload(intent: str, entities: list[dict[str, Any]]) -> str:
    """``/ask_price{"product": "极光 X5"}``: the confirmed intent keeps the entities."""
    values = {
        e["entity"]: e["value"]
        for e in entities
        if isinstance(e.get("entity"), str) and isinstance(e.get("value"), str)
    }
    return (
        f"/{intent}{json.dumps(values, ensure_ascii=False)}" if values else f"/{intent}"
    )


class ActionDefaultAskAffirmation(SafeAction):
    """Asks the customer to confirm what the bot thinks they meant."""

    def name(self) -> str:
        """Overrides Rasa's default ``action_default_ask_affirmation``."""
        return "action_default_ask_affirmation"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Asks "您是想…吗？" (with yes / neither buttons) about the likely intent."""
        parse_data = tracker.latest_message or {}
        intent = intent_to_affirm(parse_data)
        response = f"{AFFIRMATION_PREFIX}{intent}"
        if intent is None or response not in (domain.get("responses") or {}):
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        entities = parse_data.get("entities") or []
        dispatcher.utter_message(
            response=response, affirm_payload=affirm_payload(intent, entities)
        )
        return []
