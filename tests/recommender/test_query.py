from __future__ import annotations

from catalog.model import Catalog
from recommender.query import Query, eligible, matched_tags


def test_eligible_obeys_category_budget_and_stock(catalog: Catalog) -> None:
    query = Query(category="手机", budget=3000)
    picks = [p for p in catalog.products if eligible(p, query)]
    assert picks
    assert all(p.category == "手机" and p.price <= 3000 and p.stock > 0 for p in picks)
    rejected = [p for p in catalog.products if not eligible(p, query)]
    assert all(p.category != "手机" or p.price > 3000 or p.stock == 0 for p in rejected)


def test_sold_out_products_are_never_eligible(catalog: Catalog) -> None:
    sold_out = [p for p in catalog.products if p.stock == 0]
    assert sold_out
    assert not any(eligible(p, Query()) for p in sold_out)


def test_matched_tags_are_the_tags_the_text_mentions(catalog: Catalog) -> None:
    product = next(p for p in catalog.products if len(p.tags) >= 2)
    first, second = product.tags[:2]
    assert matched_tags(product, f"想要{first}的") == [first]
    assert matched_tags(product, f"{second}和{first}") == [first, second]
    assert matched_tags(product, "") == []
