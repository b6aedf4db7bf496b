from __future__ import annotations

from dataclasses import replace

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.recovery_actions import ActionOfferRecovery
from actions.subscription import ActionUnsubscribe
from catalog.model import Catalog
from marketing.coupons import Coupons
from marketing.service_recovery import recovery_offer
from marketing.store import MarketingStore
from tests.actions.conftest import TODAY, TrackerFactory, texts
from tests.marketing.fixtures import broken_store


async def test_recovery_coupon_is_stored_and_its_code_told(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    tracker = make_tracker("太差了", "complain", slots={"sentiment": "negative"})
    await ActionOfferRecovery(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    [text] = texts(dispatcher)
    coupon = Coupons(marketing_db).get(message["coupon_code"])
    assert coupon is not None and coupon.user_id == "u1"
    assert coupon.value == recovery_offer(catalog)
    assert "50元" in text and coupon.code in text and coupon.expiry_text() in text
    # A second complaint is told the same code, not issued a new one.
    again = CollectingDispatcher()
    await ActionOfferRecovery(catalog, lambda: TODAY).run(again, tracker, {})
    assert again.messages[0]["coupon_code"] == coupon.code


async def test_a_used_recovery_coupon_gets_no_new_one(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    offer = recovery_offer(catalog)
    assert offer is not None
    coupon = Coupons(marketing_db).issue_recovery("u1", offer, 30)
    Coupons(marketing_db).redeem(coupon.code, "AU1")
    tracker = make_tracker("太差了", "complain", slots={"sentiment": "negative"})
    await ActionOfferRecovery(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    assert dispatcher.messages == []  # utter_offer_human still follows


async def test_with_the_store_down_no_code_is_promised(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("太差了", "complain", slots={"sentiment": "negative"})
    action = ActionOfferRecovery(catalog, lambda: TODAY, store=broken_store)
    await action.run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_recovery_offer_unavailable"
    ]
    [text] = texts(dispatcher)
    assert "券码" in text and "人工" in text


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
