from __future__ import annotations

from datetime import datetime

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.recommendation_actions import (
    ActionRecommendProducts,
)
from catalog.model import Catalog
from marketing.coupons import Coupons
from marketing.service_recovery import recovery_offer
from marketing.store import CLICK, IMPRESSION, PURCHASE, Interaction, MarketingStore
from recommender.hybrid import Profile, Recommendation
from recommender.query import Query
from rich_reply import News, from_json
from tests.actions.conftest import (
    TODAY,
    TrackerFactory,
    listed_products,
    render,
    texts,
)
from tests.marketing.fixtures import broken_store, rows_of


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


async def test_this_turns_budget_entity_wins_over_the_slot(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker(
        "两千以内的手机有吗",
        "request_recommendation",
        [("product_category", "手机"), ("budget", "两千以内")],
        slots={"budget": "8000"},
    )
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    listed = listed_products(texts(dispatcher)[0], catalog)
    assert listed and all(p.price <= 2000 for p in listed)


async def test_a_budget_in_the_text_without_an_entity_is_not_guessed(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    # Entities come from NLU: the slot's budget stands when NLU tagged none.
    tracker = make_tracker(
        "两千以内的手机有吗",
        "request_recommendation",
        [("product_category", "手机")],
        slots={"budget": "8000"},
    )
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    listed = listed_products(texts(dispatcher)[0], catalog)
    assert any(p.price > 2000 for p in listed)
    assert all(p.price <= 8000 for p in listed)


async def test_picks_are_logged_as_impressions_with_tracked_news_articles(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    tracker = make_tracker(
        "三千以内的手机", "request_recommendation", [("product_category", "手机")]
    )
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    news = from_json(message["custom"])
    assert isinstance(news, News)
    named = listed_products(render(message), catalog)
    assert [a.title.split(" ¥")[0] for a in news.articles] == [p.name for p in named]
    logged = marketing_db.history("u1")
    assert [i.item_id for i in logged] == [p.id for p in named]
    assert all(i.event == IMPRESSION and i.variant == "content" for i in logged)
    for article, impression in zip(news.articles, logged, strict=True):
        assert article.url.endswith(f"trk={impression.tracking_id}")


async def test_missing_budget_is_asked_and_an_unclear_one_asked_again(
    catalog: Catalog, make_tracker: TrackerFactory
) -> None:
    action = ActionRecommendProducts(catalog, lambda: TODAY)
    plain = CollectingDispatcher()
    earbuds = make_tracker("耳机", "x", [("product_category", "耳机")])
    await action.run(plain, earbuds, {})
    assert "告诉小极预算" in texts(plain)[0]
    unclear = CollectingDispatcher()
    tracker = make_tracker(
        "耳机预算好多好多", "x", [("product_category", "耳机"), ("budget", "好多好多")]
    )
    await action.run(unclear, tracker, {})
    assert "预算没太看明白" in texts(unclear)[0]


@pytest.mark.parametrize("budget", ["两千块", "2k", "5000元"])
async def test_budgets_as_customers_type_them(
    budget: str, catalog: Catalog, make_tracker: TrackerFactory
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        f"{budget}的手机", "x", [("product_category", "手机"), ("budget", budget)]
    )
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    limit = {"两千块": 2000, "2k": 2000, "5000元": 5000}[budget]
    named = listed_products(texts(dispatcher)[0], catalog)
    assert named and all(p.price <= limit for p in named)


async def test_an_unhappy_customer_gets_recovery_not_products(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    tracker = make_tracker(
        "又坏了！再推荐个靠谱的手机",
        "request_recommendation",
        [("product_category", "手机")],
        slots={"sentiment": "negative"},
    )
    await ActionRecommendProducts(catalog, lambda: TODAY).run(dispatcher, tracker, {})
    apology, coupon = texts(dispatcher)
    assert "人工" in apology
    # A real coupon: stored, its code told (asking again gives the same one).
    offer = recovery_offer(catalog)
    assert offer
    issued = Coupons(marketing_db).issue_recovery("u1", offer, 30)
    assert "补偿券" in coupon and issued.code in coupon
    assert not listed_products(apology + coupon, catalog)
    assert marketing_db.history("u1") == []


async def test_history_moves_bought_items_out_of_the_way(
    catalog: Catalog, make_tracker: TrackerFactory, marketing_db: MarketingStore
) -> None:
    action = ActionRecommendProducts(catalog, lambda: TODAY)
    tracker = make_tracker("手表", "x", [("product_category", "手表")], sender_id="u9")
    first = CollectingDispatcher()
    await action.run(first, tracker, {})
    top = listed_products(texts(first)[0], catalog)[0]
    impression = marketing_db.history("u9")[0]
    assert impression.item_id == top.id and impression.tracking_id
    marketing_db.record_event(impression.tracking_id, PURCHASE)
    again = CollectingDispatcher()
    await action.run(again, tracker, {})
    assert listed_products(texts(again)[0], catalog)[0] != top


async def test_a_database_outage_still_gets_a_recommendation(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("耳机", "x", [("product_category", "耳机")])
    action = ActionRecommendProducts(catalog, lambda: TODAY, store=broken_store)
    await action.run(dispatcher, tracker, {})
    assert listed_products(texts(dispatcher)[0], catalog)


async def test_a_second_complaint_is_told_the_same_coupon_again(
    catalog: Catalog, make_tracker: TrackerFactory, marketing_db: MarketingStore
) -> None:
    tracker = make_tracker(
        "推荐手机", "x", [("product_category", "手机")], slots={"sentiment": "negative"}
    )
    told = []
    for _ in range(2):
        dispatcher = CollectingDispatcher()
        await ActionRecommendProducts(catalog, lambda: TODAY).run(
            dispatcher, tracker, {}
        )
        _, coupon = texts(dispatcher)
        told.append(coupon)
    assert told[0] == told[1]  # one code, never a promise without one
    offer = recovery_offer(catalog)
    assert offer
    assert Coupons(marketing_db).issue_recovery("u1", offer, 30).code in told[0]
    assert rows_of(marketing_db, "u1")["coupons"] == 1


class _ProfileSpy:
    """A recommender that remembers the profiles it was asked about."""

    def __init__(self) -> None:
        self.profiles: list[Profile] = []

    def recommend(self, query: Query, profile: Profile, k: int = 3) -> Recommendation:
        self.profiles.append(profile)
        return Recommendation()


async def test_the_profile_carries_when_each_click_and_purchase_happened(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    clicked_at, bought_at = datetime(2026, 11, 20, 9), datetime(2026, 11, 18, 21)
    marketing_db.log(
        Interaction("u1", item, event, "hybrid", None, None, when)
        for item, event, when in (
            ("au-buds-pro2", CLICK, clicked_at),
            ("ph-nova12", PURCHASE, bought_at),
        )
    )
    spy = _ProfileSpy()
    tracker = make_tracker("手表", "x", [("product_category", "手表")])
    await ActionRecommendProducts(catalog, lambda: TODAY, recommender=spy).run(
        dispatcher, tracker, {}
    )
    [profile] = spy.profiles
    assert profile.clicked == ("au-buds-pro2",) and profile.clicked_at == (clicked_at,)
    assert profile.purchased == ("ph-nova12",) and profile.purchased_at == (bought_at,)
