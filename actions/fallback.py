"""Two-stage fallback in Chinese: "您是想「询问价格」吗？" instead of English."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import SafeAction

# How each intent is described when the bot asks the customer to confirm it.
INTENT_DESCRIPTIONS: dict[str, str] = {
    "greet": "打个招呼",
    "goodbye": "结束咨询",
    "thank": "表示感谢",
    "affirm": "表示同意",
    "deny": "表示不需要",
    "bot_challenge": "确认是不是机器人",
    "ask_product_info": "了解产品信息",
    "ask_price": "询问价格",
    "ask_promotion": "了解优惠活动",
    "request_recommendation": "让小极推荐产品",
    "purchase": "购买下单",
    "ask_shipping": "查询发货和物流",
    "ask_return": "退换货或保修",
    "complain": "投诉或反馈问题",
    "request_human": "转人工客服",
    "ask_store": "查询线下门店",
    "join_campaign": "报名参加活动",
    "unsubscribe": "退订推送消息",
    "leave_contact": "留下联系方式",
    "out_of_scope": "聊点别的",
}
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"


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
        """Sends "您是想…吗？" with yes / neither buttons."""
        parse_data = tracker.latest_message or {}
        intent = intent_to_affirm(parse_data)
        if intent is None or intent not in INTENT_DESCRIPTIONS:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        entities = parse_data.get("entities") or []
        dispatcher.utter_message(
            text=f"您是想「{INTENT_DESCRIPTIONS[intent]}」吗？",
            buttons=[
                {"title": "是的", "payload": affirm_payload(intent, entities)},
                {"title": "都不是", "payload": f"/{OUT_OF_SCOPE_INTENT}"},
            ],
        )
        return []
