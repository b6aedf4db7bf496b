from __future__ import annotations

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog import Catalog
from actions.recommendation_actions import ActionRecommendProducts
from tests.actions.conftest import TODAY, TrackerFactory, listed_products, texts


async def test_recommendation_within_budget(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker(
        "推荐个两千块以内的手机",
        "request_recommendation",
        [("product_category", "手机"), ("budget", "两千块")],
    )
    events = await ActionRecommendProducts(catalog, lambda: TODAY).run(
        dispatcher, tracker, {}
    )
    text = texts(dispatcher)[0]
    named = listed_products(text, catalog)
    assert named and all(p.category == "手机" and p.price <= 2000 for p in named)
    assert SlotSet("product_category", "手机") in events


async def test_without_a_category_shows_popular_items_and_category_buttons(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("有啥推荐的", "request_recommendation")
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert len(message["buttons"]) == 8
    assert (
        message["buttons"][0]["payload"]
        == '/request_recommendation{"product_category": "手机"}'
    )


async def test_impossible_budget_gets_an_honest_alternative(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker(
        "100块的笔记本",
        "request_recommendation",
        [("product_category", "笔记本"), ("budget", "100块")],
    )
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    text = texts(dispatcher)[0]
    assert "暂时没有" in text and "最接近" in text


async def test_unparseable_budget_is_ignored_not_fatal(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker(
        "预算随意",
        "request_recommendation",
        [("product_category", "音箱"), ("budget", "随意")],
    )
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    listed = listed_products(texts(dispatcher)[0], catalog)
    assert listed and all(p.category == "音箱" for p in listed)


async def test_budget_in_the_text_counts_when_nlu_missed_the_entity(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker(
        "两千以内的手机有吗",
        "request_recommendation",
        [("product_category", "手机")],
        slots={"budget": "8000"},
    )
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    listed = listed_products(texts(dispatcher)[0], catalog)
    assert listed and all(p.price <= 2000 for p in listed)
