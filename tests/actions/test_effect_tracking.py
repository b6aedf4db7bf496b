"""Clicks and purchases logged against the impressions they follow.

The actions mark their replies; the event stream logs the click or purchase
(:mod:`tests.actions.event_stream` runs the replies through Rasa and the stream).
"""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.marketing_action import ordinal
from actions.product_actions import (
    ActionPriceInfo,
    ActionProductInfo,
    ActionPurchaseGuide,
)
from actions.recommendation_actions import ActionRecommendProducts
from catalog.model import Catalog
from marketing.store import CLICK, IMPRESSION, PURCHASE, MarketingStore
from marketing.tracking import show, tracked_url
from tests.actions.conftest import TODAY, TrackerFactory, listed_products, texts
from tests.actions.event_stream import stream_replies


def no_database() -> MarketingStore:
    """The store of an action that must not touch it.

    A question about a named product is answered, and its click logged, without
    the database.
    """
    pytest.fail("the action used the marketing store")


async def _recommend(catalog: Catalog, make_tracker: TrackerFactory) -> list[str]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("耳机推荐", "x", [("product_category", "耳机")])
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    return [p.id for p in listed_products(texts(dispatcher)[0], catalog)]


async def test_a_question_about_a_recommended_item_is_its_click(
    catalog: Catalog, make_tracker: TrackerFactory, marketing_db: MarketingStore
) -> None:
    shown = await _recommend(catalog, make_tracker)
    second = catalog.product(shown[1])
    assert second is not None
    asked = make_tracker(f"{second.name}怎么样", "x", [("product", second.name)])
    for action in (ActionProductInfo, ActionPriceInfo, ActionProductInfo):
        dispatcher = CollectingDispatcher()
        await action(catalog, lambda: TODAY, store=no_database).run(
            dispatcher, asked, {}
        )
        await stream_replies(dispatcher, marketing_db)
    clicks = [i for i in marketing_db.history("u1") if i.event == CLICK]
    assert [c.item_id for c in clicks] == [second.id]  # one click per impression
    impression = next(
        i
        for i in marketing_db.history("u1")
        if i.event == IMPRESSION and i.item_id == second.id
    )
    assert clicks[0].tracking_id == impression.tracking_id


async def test_buying_the_first_of_the_list_is_a_conversion(
    catalog: Catalog, make_tracker: TrackerFactory, marketing_db: MarketingStore
) -> None:
    shown = await _recommend(catalog, make_tracker)
    dispatcher = CollectingDispatcher()
    buy = make_tracker("就要第一款，怎么下单", "purchase", [("position", "第一款")])
    await ActionPurchaseGuide(catalog, lambda: TODAY).run(dispatcher, buy, {})
    assert not [i for i in marketing_db.history("u1") if i.event == PURCHASE]
    await stream_replies(dispatcher, marketing_db)
    await stream_replies(dispatcher, marketing_db)  # delivered again: once
    first = catalog.product(shown[0])
    purchases = [i for i in marketing_db.history("u1") if i.event == PURCHASE]
    assert first is not None and [p.item_id for p in purchases] == [first.id]
    tracked = f"{first.url}?trk={purchases[0].tracking_id}"
    assert tracked in texts(dispatcher)[0]


async def test_items_never_recommended_log_nothing(
    catalog: Catalog, make_tracker: TrackerFactory, marketing_db: MarketingStore
) -> None:
    tracker = make_tracker("X5多少钱", "ask_price", [("product", "极光 X5")])
    dispatcher = CollectingDispatcher()
    await ActionPriceInfo(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    await stream_replies(dispatcher, marketing_db)
    assert marketing_db.history("u1") == []


async def test_a_position_outside_the_list_or_without_an_entity_buys_nothing(
    catalog: Catalog, make_tracker: TrackerFactory, marketing_db: MarketingStore
) -> None:
    await _recommend(catalog, make_tracker)
    for buy in (
        make_tracker("第八款怎么买", "purchase", [("position", "第八款")]),
        # The position is NLU's to find; the action does not search the text.
        make_tracker("就要第一款，怎么下单", "purchase"),
    ):
        dispatcher = CollectingDispatcher()
        await ActionPurchaseGuide(catalog, lambda: TODAY).run(dispatcher, buy, {})
        await stream_replies(dispatcher, marketing_db)
        assert "trk=" not in "".join(texts(dispatcher))
    assert not [i for i in marketing_db.history("u1") if i.event == PURCHASE]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("第一款", 1),
        ("第 2 个", 2),
        ("第三台", 3),
        ("第２个", 2),
        ("第两个", 2),
        ("3", 3),
        ("第0个", None),
        ("X5", None),
        ("", None),
    ],
)
def test_position_entity_values(value: str, expected: int | None) -> None:
    assert ordinal(value) == expected


def test_tracked_links() -> None:
    assert tracked_url("https://s.cn/p/x", "abc") == "https://s.cn/p/x?trk=abc"
    assert tracked_url("https://s.cn/p?a=1", "abc") == "https://s.cn/p?a=1&trk=abc"
    assert tracked_url("https://s.cn/p", "abc", "https://t.cn/") == "https://t.cn/t/abc"
    first, second = show([("a", "https://s.cn/a"), ("b", "https://s.cn/b")])
    assert first.tracking_id != second.tracking_id and first.target_url.endswith("/a")
