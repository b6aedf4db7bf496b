from __future__ import annotations

from actions.catalog import Catalog
from actions.recommender import Query, closest_over_budget, recommend


def test_recommendations_obey_category_budget_and_stock(catalog: Catalog) -> None:
    picks = recommend(catalog.products, Query(category="手机", budget=3000), k=10)
    assert picks
    assert all(p.category == "手机" and p.price <= 3000 and p.stock > 0 for p in picks)


def test_sold_out_products_are_never_recommended(catalog: Catalog) -> None:
    sold_out = {p.id for p in catalog.products if p.stock == 0}
    picks = recommend(catalog.products, Query(), k=len(catalog.products))
    assert sold_out and not sold_out & {p.id for p in picks}


def test_stated_needs_move_matching_products_up(catalog: Catalog) -> None:
    category = "耳机"
    plain = recommend(catalog.products, Query(category=category), k=10)
    tag = next(t for p in plain[1:] for t in p.tags if t not in plain[0].tags)
    with_need = recommend(
        catalog.products, Query(category=category, text=f"想要{tag}的"), k=10
    )
    assert tag in with_need[0].tags


def test_k_limits_the_list_and_order_is_deterministic(catalog: Catalog) -> None:
    first = recommend(catalog.products, Query(category="配件"), k=2)
    assert len(first) == 2
    assert first == recommend(catalog.products, Query(category="配件"), k=2)


def test_nothing_within_an_impossible_budget_but_a_closest_offer(
    catalog: Catalog,
) -> None:
    query = Query(category="笔记本", budget=10)
    assert recommend(catalog.products, query) == []
    closest = closest_over_budget(catalog.products, query)
    laptops = [p for p in catalog.products_in("笔记本") if p.stock > 0]
    assert closest is not None and closest.price == min(p.price for p in laptops)
