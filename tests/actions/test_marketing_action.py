from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.marketing_action import MarketingAction
from catalog.model import Catalog
from marketing.connection import StoreFactory
from marketing.store import Interaction, MarketingStore
from tests.actions.conftest import TODAY, TrackerFactory
from tests.marketing.fixtures import broken_store


class _History(MarketingAction):
    """Answers with the number of logged interactions, [] when the store fails."""

    def __init__(
        self, catalog: Catalog | None = None, store: StoreFactory | None = None
    ) -> None:
        super().__init__(catalog, lambda: TODAY, store)

    def name(self) -> str:
        return "action_history"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        nothing: list[Interaction] = []
        history = await self.db(lambda s: s.history(tracker.sender_id), nothing)
        dispatcher.utter_message(text=str(len(history)))
        return []


NOTHING: tuple[Interaction, ...] = ()


def _buggy(store: MarketingStore) -> tuple[Interaction, ...]:
    raise KeyError("a bug in store code")


async def test_a_database_that_is_down_gives_the_fallback(
    catalog: Catalog, make_tracker: TrackerFactory
) -> None:
    action = _History(catalog, broken_store)
    nothing: list[Interaction] = []
    assert await action.db(lambda s: s.history("u1"), nothing) is nothing
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, make_tracker("你好"), {})
    assert dispatcher.messages[0]["text"] == "0"


async def test_a_bug_in_store_code_is_not_taken_for_a_database_failure(
    catalog: Catalog, make_tracker: TrackerFactory, marketing_db: MarketingStore
) -> None:
    action = _History(catalog, lambda: marketing_db)
    with pytest.raises(KeyError):
        await action.db(_buggy, NOTHING)
    # At the action's boundary the customer gets an apology, not a wrong answer.
    original = action.respond

    async def buggy_respond(
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        await action.db(_buggy, NOTHING)
        return await original(dispatcher, tracker, domain)

    action.respond = buggy_respond  # type: ignore[method-assign]
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, make_tracker("你好"), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_action_failed"]
