from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import SafeAction, latest_value
from tests.actions.conftest import TrackerFactory, texts


class _Broken(SafeAction):
    def name(self) -> str:
        return "action_broken"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        raise RuntimeError("database is down")


async def test_a_failing_action_still_answers(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    events = await _Broken().run(dispatcher, make_tracker("你好"), {})
    assert events == []
    assert texts(dispatcher) == [
        "抱歉，小极这边出了点小问题😥 请稍后再试，或回复“人工”联系客服。"
    ]


async def test_a_failing_action_is_counted_as_an_error(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    name, labels = "aurora_action_errors_total", {"action": "action_broken"}
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    await _Broken().run(dispatcher, make_tracker("你好"), {})
    assert REGISTRY.get_sample_value(name, labels) == before + 1


def test_latest_value_prefers_this_turns_entity(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker(entities=[("city", "成都")], slots={"city": "上海"})
    assert latest_value(tracker, "city") == "成都"
    assert latest_value(make_tracker(slots={"city": "上海"}), "city") == "上海"
    assert latest_value(make_tracker(), "city") is None
