"""action_handoff: the sentence, then the signal the WeChat channel transfers on."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from tests.actions.conftest import TrackerFactory, texts
from wechat.handoff import HANDOFF_PAYLOAD, is_handoff_request


async def test_handoff_says_so_and_signals_the_channel(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("转人工", "request_human")
    assert await ActionHandoff().run(dispatcher, tracker, {}) == [
        SlotSet("handoff_offered", False)
    ]
    sentence, signal = dispatcher.messages
    assert sentence["response"] == "utter_handoff"
    assert "人工客服" in texts(dispatcher)[0]
    assert signal["custom"] == HANDOFF_PAYLOAD and is_handoff_request(signal["custom"])


async def test_an_unsure_guess_asks_before_silencing_the_bot(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    # A voice message transcribed as 腾讯微信团队 reads as request_human at 0.53.
    tracker = make_tracker("腾讯微信团队", "request_human", confidence=0.53)
    assert await ActionHandoff().run(dispatcher, tracker, {}) == [
        SlotSet("handoff_offered", True)
    ]
    [question] = dispatcher.messages
    assert question["response"] == "utter_offer_human"
    customs = [m.get("custom") or {} for m in dispatcher.messages]
    assert not any(is_handoff_request(c) for c in customs)


async def test_a_yes_to_the_offer_transfers(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("好的", "affirm", slots={"handoff_offered": True})
    assert await ActionHandoff().run(dispatcher, tracker, {}) == [
        SlotSet("handoff_offered", False)
    ]
    assert is_handoff_request(dispatcher.messages[-1]["custom"])


async def test_a_hesitant_yes_to_the_offer_still_transfers(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    # Only request_human is held to the threshold: the offer's yes is an answer.
    tracker = make_tracker(
        "嗯好吧", "affirm", slots={"handoff_offered": True}, confidence=0.55
    )
    await ActionHandoff().run(dispatcher, tracker, {})
    assert is_handoff_request(dispatcher.messages[-1]["custom"])
