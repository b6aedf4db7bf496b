"""action_handoff: the sentence, then the signal the WeChat channel transfers on."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from tests.actions.conftest import TrackerFactory, texts
from wechat.handoff import HANDOFF_PAYLOAD, is_handoff_request


async def test_handoff_says_so_and_signals_the_channel(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("转人工", "request_human")
    assert await ActionHandoff().run(dispatcher, tracker, {}) == []
    sentence, signal = dispatcher.messages
    assert sentence["response"] == "utter_handoff"
    assert "人工客服" in texts(dispatcher)[0]
    assert signal["custom"] == HANDOFF_PAYLOAD and is_handoff_request(signal["custom"])
