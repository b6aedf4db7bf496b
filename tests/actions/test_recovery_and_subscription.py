from __future__ import annotations

from dataclasses import replace

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.recovery_actions import ActionOfferRecovery
from actions.subscription import ActionUnsubscribe
from catalog.model import Catalog
from marketing.service_recovery import recovery_offer
from marketing.store import MarketingStore
from tests.actions.conftest import TODAY, TrackerFactory, texts
from tests.marketing.fixtures import broken_store


async def test_recovery_offer_comes_from_the_catalog_policy(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("太差了", "complain", slots={"sentiment": "negative"})
    await ActionOfferRecovery(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    [text] = texts(dispatcher)
    assert "50元" in text and text == recovery_offer(catalog)


async def test_a_catalog_without_the_policy_promises_no_coupon(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    bare = replace(catalog, policies={})
    assert recovery_offer(bare) is None
    tracker = make_tracker("太差了", "complain", slots={"sentiment": "negative"})
    await ActionOfferRecovery(bare, lambda: TODAY).run(dispatcher, tracker, {})
    assert dispatcher.messages == []


async def test_unsubscribe_is_stored_and_set_on_the_conversation(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    events = await ActionUnsubscribe().run(dispatcher, make_tracker("退订"), {})
    assert events == [SlotSet("marketing_opt_out", True)]
    assert marketing_db.is_opted_out("u1")
    assert dispatcher.messages == []  # utter_unsubscribed follows in the story


async def test_unfollow_is_stored_and_set_without_a_word(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    tracker = make_tracker("/unfollow", "unfollow", sender_id="o_leaver")
    events = await ActionUnsubscribe().run(dispatcher, tracker, {})
    assert events == [SlotSet("marketing_opt_out", True)]
    assert marketing_db.is_opted_out("o_leaver")
    assert dispatcher.messages == []


async def test_unsubscribe_with_the_database_down_keeps_the_slot(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    action = ActionUnsubscribe(store=broken_store)
    events = await action.run(dispatcher, make_tracker("退订"), {})
    assert events == [SlotSet("marketing_opt_out", True)]
