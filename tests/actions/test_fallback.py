from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.fallback import (
    AFFIRMATION_PREFIX,
    ActionDefaultAskAffirmation,
    affirm_payload,
    intent_to_affirm,
)
from tests.actions.conftest import TrackerFactory, buttons, domain_responses, render
from tests.test_contract import INTENTS


def test_every_contract_intent_has_a_confirmation_question() -> None:
    questions = {
        name.removeprefix(AFFIRMATION_PREFIX)
        for name in domain_responses()
        if name.startswith(AFFIRMATION_PREFIX)
    }
    assert questions == INTENTS


def test_fallback_asks_about_the_runner_up() -> None:
    parse_data = {
        "intent": {"name": "nlu_fallback", "confidence": 0.4},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.4},
            {"name": "ask_price", "confidence": 0.35},
            {"name": "ask_promotion", "confidence": 0.2},
        ],
    }
    assert intent_to_affirm(parse_data) == "ask_price"


def test_nothing_to_affirm_without_intents() -> None:
    assert intent_to_affirm({}) is None
    assert (
        intent_to_affirm({"intent": {"name": "nlu_fallback"}, "intent_ranking": []})
        is None
    )


def test_affirmed_payload_keeps_the_entities() -> None:
    entities: list[dict[str, Any]] = [
        {"entity": "product", "value": "极光 X5"},
        {"entity": "x", "value": 3},
    ]
    assert affirm_payload("ask_price", entities) == '/ask_price{"product": "极光 X5"}'
    assert affirm_payload("greet", []) == "/greet"


async def test_affirmation_is_asked_in_chinese_with_buttons(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory, domain: DomainDict
) -> None:
    tracker = make_tracker(
        "这玩意儿啥价",
        "nlu_fallback",
        intent_ranking=[{"name": "nlu_fallback"}, {"name": "ask_price"}],
    )
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert render(message) == "您是想「询问价格」吗？"
    assert [b["payload"] for b in buttons(message)] == ["/ask_price", "/out_of_scope"]


async def test_unknown_intent_asks_to_rephrase(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    await ActionDefaultAskAffirmation().run(
        dispatcher, make_tracker("?", "mystery"), {"responses": domain_responses()}
    )
    assert dispatcher.messages[0]["response"] == "utter_ask_rephrase"
