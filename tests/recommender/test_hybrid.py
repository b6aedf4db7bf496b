"""Ranking properties of the live recommender over the real catalog."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from catalog.model import Catalog
from recommender.hybrid import (
    CONTENT_STRATEGY,
    HYBRID_STRATEGY,
    HybridRecommender,
    Profile,
)
from recommender.query import Query


@pytest.fixture(scope="module")
def recommender(catalog: Catalog) -> HybridRecommender:
    return HybridRecommender(catalog.products)


@pytest.fixture(scope="module")
def warm(catalog: Catalog) -> HybridRecommender:
    return HybridRecommender(catalog.products, _feedback(catalog))


def _feedback(catalog: Catalog) -> list[tuple[str, str, str]]:
    # 30 customers: those who click the Buds Pro 2 buy the GT Sport watch.
    pairs = [("au-buds-pro2", "wt-gt-sport"), ("ph-nova12", "ac-x5-case")]
    known = {p.id for p in catalog.products}
    assert all(a in known and b in known for a, b in pairs), "fixture ids drifted"
    rows = []
    for user in range(30):
        first, second = pairs[user % 2]
        rows += [(f"u{user}", first, "click"), (f"u{user}", second, "purchase")]
    return rows


def test_budget_category_and_stock_are_hard_rules(
    recommender: HybridRecommender,
) -> None:
    result = recommender.recommend(Query("手机", 3000), Profile(), k=10)
    assert result.products and not result.relaxed
    assert all(
        p.category == "手机" and p.price <= 3000 and p.stock > 0
        for p in result.products
    )


def test_sold_out_items_never_appear(
    recommender: HybridRecommender, catalog: Catalog
) -> None:
    result = recommender.recommend(Query(), Profile(), k=len(catalog.products))
    sold_out = {p.id for p in catalog.products if p.stock == 0}
    assert sold_out and not sold_out & {p.id for p in result.products}


def test_negative_sentiment_gets_recovery_not_an_upsell(
    recommender: HybridRecommender,
) -> None:
    result = recommender.recommend(Query("手机"), Profile(sentiment="negative"))
    assert result.recovery and result.products == ()


def test_promotions_lift_items_except_for_opted_out_customers(
    recommender: HybridRecommender, catalog: Catalog
) -> None:
    laptops = [p for p in catalog.products_in("笔记本") if p.stock > 0]
    plain = recommender.recommend(Query("笔记本"), Profile(), k=len(laptops))
    last = plain.products[-1].id
    promoted = frozenset({last})
    boosted = recommender.recommend(
        Query("笔记本"), Profile(promoted=promoted), k=len(laptops)
    )
    assert boosted.products.index(catalog.product(last)) < len(laptops) - 1  # type: ignore[arg-type]
    opted_out = recommender.recommend(
        Query("笔记本"), Profile(promoted=promoted, opted_out=True), k=len(laptops)
    )
    assert opted_out.products == plain.products


def test_stated_needs_and_free_text_move_matching_items_up(
    recommender: HybridRecommender,
) -> None:
    plain = recommender.recommend(Query("耳机"), Profile(), k=10).products
    tag = next(t for p in plain[1:] for t in p.tags if t not in plain[0].tags)
    wanted = recommender.recommend(Query("耳机", text=f"想要{tag}的"), Profile())
    assert tag in wanted.products[0].tags


def test_bought_items_are_not_recommended_again_first(
    recommender: HybridRecommender,
) -> None:
    top = recommender.recommend(Query("手表"), Profile()).products[0]
    after = recommender.recommend(Query("手表"), Profile(purchased=(top.id,)))
    assert after.products[0] != top


def test_impossible_budget_gets_a_relaxed_suggestion(
    recommender: HybridRecommender, catalog: Catalog
) -> None:
    result = recommender.recommend(Query("笔记本", 10), Profile())
    laptops = [p for p in catalog.products_in("笔记本") if p.stock > 0]
    assert result.relaxed and len(result.products) == 1
    assert result.products[0].price == min(p.price for p in laptops)


def test_cold_start_is_content_and_history_switches_on_cf(catalog: Catalog) -> None:
    cold = HybridRecommender(catalog.products, _feedback(catalog)[:4])
    assert not cold.has_collaborative
    warm = HybridRecommender(catalog.products, _feedback(catalog), min_interactions=50)
    assert warm.has_collaborative
    profile = Profile(clicked=("au-buds-pro2",))
    assert cold.recommend(Query("手表"), profile).strategy == CONTENT_STRATEGY
    result = warm.recommend(Query("手表"), profile)
    assert result.strategy == HYBRID_STRATEGY
    assert result.products[0].id == "wt-gt-sport"
    assert cold.recommend(Query("手表"), profile).products[0].id != "wt-gt-sport"


# Clicks on the Buds Pro 2 lead to the GT Sport watch, on the Nova 12 to the case.
BUDS, NOVA, WATCH, CASE = "au-buds-pro2", "ph-nova12", "wt-gt-sport", "ac-x5-case"
DAY = datetime(2026, 12, 1, 9, 0)


def _rank(recommender: HybridRecommender, profile: Profile) -> list[str]:
    result = recommender.recommend(Query(), profile, k=len(recommender.products))
    return [p.id for p in result.products]


@pytest.mark.parametrize("latest", [BUDS, NOVA])
def test_the_more_recent_click_weighs_more(
    warm: HybridRecommender, latest: str
) -> None:
    earlier = NOVA if latest == BUDS else BUDS
    # The same clicks in the same order; only their times differ.
    at = {earlier: DAY, latest: DAY + timedelta(hours=2)}
    profile = Profile(clicked=(BUDS, NOVA), clicked_at=(at[BUDS], at[NOVA]))
    collaborative = warm.signals(Query(), profile)["collaborative"]
    index = {p.id: i for i, p in enumerate(warm.products)}
    follows, other = (WATCH, CASE) if latest == BUDS else (CASE, WATCH)
    assert collaborative[index[follows]] > collaborative[index[other]]
    ranking = _rank(warm, profile)
    assert ranking.index(follows) < ranking.index(other)


def test_a_purchase_and_a_click_are_ordered_by_their_times(
    warm: HybridRecommender,
) -> None:
    bought_last = Profile(
        clicked=(NOVA,),
        purchased=(BUDS,),
        clicked_at=(DAY,),
        purchased_at=(DAY + timedelta(days=3),),
    )
    clicked_last = Profile(
        clicked=(NOVA,),
        purchased=(BUDS,),
        clicked_at=(DAY + timedelta(days=3),),
        purchased_at=(DAY,),
    )
    index = {p.id: i for i, p in enumerate(warm.products)}
    first = warm.signals(Query(), bought_last)["collaborative"]
    second = warm.signals(Query(), clicked_last)["collaborative"]
    assert first[index[WATCH]] > second[index[WATCH]]
    assert first[index[CASE]] < second[index[CASE]]


def test_without_times_or_with_decay_one_every_click_weighs_the_same(
    catalog: Catalog, warm: HybridRecommender
) -> None:
    untimed = Profile(clicked=(BUDS, NOVA))
    timed = Profile(clicked=(BUDS, NOVA), clicked_at=(DAY, DAY + timedelta(1)))
    flat = HybridRecommender(catalog.products, _feedback(catalog), recency_decay=1.0)
    expected = warm.signals(Query(), untimed)["collaborative"]
    assert flat.signals(Query(), timed)["collaborative"] == pytest.approx(expected)
    assert warm.signals(Query(), timed)["collaborative"] != pytest.approx(expected)


def test_times_must_match_the_clicks_and_purchases() -> None:
    with pytest.raises(ValueError, match="1 click times for 2 clicks"):
        Profile(clicked=(BUDS, NOVA), clicked_at=(DAY,))
    with pytest.raises(ValueError, match="0 purchase times for 1 purchases"):
        Profile(clicked=(BUDS,), purchased=(NOVA,), clicked_at=(DAY,))
