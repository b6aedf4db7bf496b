from __future__ import annotations

from dataclasses import replace
from datetime import date

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.product_actions import (
    ActionPriceInfo,
    ActionProductInfo,
    ActionPurchaseGuide,
)
from catalog.model import Catalog
from tests.actions.conftest import TODAY, TrackerFactory, listed_products, texts


def _today() -> date:
    return TODAY


async def test_product_info_for_a_tagged_product(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker(
        "X5 Pro怎么样", "ask_product_info", [("product", "极光 X5 Pro")]
    )
    events = await ActionProductInfo(catalog, _today).run(dispatcher, tracker, {})
    [text] = texts(dispatcher)
    product = catalog.find_product("X5 Pro")
    assert product is not None
    assert product.name in text and product.url in text
    assert SlotSet("product", product.name) in events


async def test_product_entity_not_mapped_by_a_synonym_is_still_found(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    # A tagged span that no synonym covers ("BudsAir3耳机") is normalised by the
    # catalog's forms.
    tracker = make_tracker(
        "BudsAir3耳机续航多久", "ask_product_info", [("product", "BudsAir3耳机")]
    )
    await ActionProductInfo(catalog, _today).run(dispatcher, tracker, {})
    assert "Buds Air 3" in texts(dispatcher)[0]


async def test_a_product_named_in_the_text_but_not_tagged_is_not_guessed(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    # Entities come from NLU; the action does not search the text itself.
    tracker = make_tracker("budsair3续航多久", "ask_product_info")
    await ActionProductInfo(catalog, _today).run(dispatcher, tracker, {})
    assert "Buds Air 3" not in texts(dispatcher)[0]


async def test_this_turns_product_wins_over_the_slot(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker(
        "那Watch 4呢",
        "ask_price",
        [("product", "极光 Watch 4")],
        slots={"product": "极光 X5"},
    )
    await ActionPriceInfo(catalog, _today).run(dispatcher, tracker, {})
    assert texts(dispatcher)[0].startswith("极光 Watch 4 ")


async def test_follow_up_question_uses_the_product_slot(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("多少钱", "ask_price", slots={"product": "极光 Pad 6"})
    await ActionPriceInfo(catalog, _today).run(dispatcher, tracker, {})
    assert "极光 Pad 6 现价 ¥" in texts(dispatcher)[0]


async def test_product_info_for_a_category_lists_its_products(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker(
        "蓝牙耳机有哪些", "ask_product_info", [("product_category", "蓝牙耳机")]
    )
    events = await ActionProductInfo(catalog, _today).run(dispatcher, tracker, {})
    text = texts(dispatcher)[0]
    listed = listed_products(text, catalog)
    assert len(listed) == min(len(catalog.products_in("耳机")), 5)
    assert all(p.category == "耳机" for p in listed)
    assert SlotSet("product_category", "耳机") in events


async def test_product_info_without_a_product_asks_which(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    await ActionProductInfo(catalog, _today).run(
        dispatcher, make_tracker("介绍一下"), {}
    )
    assert "哪款" in texts(dispatcher)[0]


async def test_price_of_a_category_gives_the_range(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("手表多少钱", "ask_price", [("product_category", "手表")])
    await ActionPriceInfo(catalog, _today).run(dispatcher, tracker, {})
    prices = [p.price for p in catalog.products_in("手表")]
    assert f"{min(prices):,.0f}" in texts(dispatcher)[0]


async def test_purchase_of_a_sold_out_product_offers_a_notice(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    sold_out = next(p for p in catalog.products if p.stock == 0)
    tracker = make_tracker("我要买", "purchase", [("product", sold_out.name)])
    await ActionPurchaseGuide(catalog, _today).run(dispatcher, tracker, {})
    text = texts(dispatcher)[0]
    assert "缺货" in text and sold_out.url not in text


async def test_purchase_in_stock_gives_the_link(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    product = next(p for p in catalog.products if p.stock > 0)
    tracker = make_tracker("下单", "purchase", [("product", product.name)])
    await ActionPurchaseGuide(catalog, _today).run(dispatcher, tracker, {})
    assert product.url in texts(dispatcher)[0]


async def test_discounted_price_shows_the_original(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    product = catalog.products[0]
    discounted = replace(product, price=100.0, original_price=200.0)
    products = tuple(discounted if p is product else p for p in catalog.products)
    single = replace(catalog, products=products)
    tracker = make_tracker("多少钱", "ask_price", [("product", product.name)])
    await ActionPriceInfo(single, _today).run(dispatcher, tracker, {})
    assert "¥100（原价¥200）" in texts(dispatcher)[0]
