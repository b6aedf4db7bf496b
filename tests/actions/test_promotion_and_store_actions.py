from __future__ import annotations

from dataclasses import replace
from datetime import date

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.promotion_actions import (
    ActionListCampaigns,
    ActionListPromotions,
)
from actions.store_actions import ActionStoreInfo
from catalog.model import Catalog
from tests.actions.conftest import TODAY, TrackerFactory, texts


async def test_only_live_promotions_are_listed(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    await ActionListPromotions(catalog, lambda: TODAY).run(
        dispatcher, make_tracker("有活动吗"), {}
    )
    text = texts(dispatcher)[0]
    live = catalog.live_promotions(TODAY)
    over = [p for p in catalog.promotions if p not in live]
    assert live and all(p.title in text for p in live)
    assert over and not any(p.title in text for p in over)


async def test_promotions_for_a_product_are_its_own(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    product = next(p for p in catalog.products if catalog.promotions_for(p, TODAY))
    tracker = make_tracker("有优惠吗", "ask_promotion", [("product", product.name)])
    await ActionListPromotions(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    text = texts(dispatcher)[0]
    assert text.startswith(product.name)
    assert all(p.title in text for p in catalog.promotions_for(product, TODAY))


async def test_no_live_promotion_is_said_honestly(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    far_future = lambda: date(2099, 1, 1)  # noqa: E731
    await ActionListPromotions(catalog, far_future).run(dispatcher, make_tracker(), {})
    await ActionListCampaigns(catalog, far_future).run(dispatcher, make_tracker(), {})
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_no_promotion",
        "utter_no_campaign",
    ]


async def test_open_campaigns_are_listed(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    await ActionListCampaigns(catalog, lambda: TODAY).run(
        dispatcher, make_tracker(), {}
    )
    text = texts(dispatcher)[0]
    assert all(c.title in text for c in catalog.live_campaigns(TODAY))


async def test_stores_in_a_city_by_nickname(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("魔都门店在哪", "ask_store", [("city", "上海")])
    events = await ActionStoreInfo(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    text = texts(dispatcher)[0]
    assert all(s.address in text for s in catalog.stores_in("上海"))
    assert SlotSet("city", "上海") in events


async def test_city_without_a_store_lists_the_cities(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("拉萨有店吗", "ask_store", [("city", "拉萨")])
    await ActionStoreInfo(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    text = texts(dispatcher)[0]
    assert "暂时还没有" in text and catalog.cities()[0] in text


async def test_no_city_asks_for_it(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    await ActionStoreInfo(catalog, lambda: TODAY).run(
        dispatcher, make_tracker("门店"), {}
    )
    assert "哪个城市" in texts(dispatcher)[0]


async def test_a_broken_catalog_costs_an_apology_not_a_crash(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    def broken_clock() -> date:
        raise OSError("clock unavailable")

    await ActionListPromotions(replace(catalog), broken_clock).run(
        dispatcher, make_tracker(), {}
    )
    assert "出了点小问题" in texts(dispatcher)[0]
