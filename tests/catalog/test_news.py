from __future__ import annotations

from catalog.model import Catalog
from catalog.news import news_payload
from rich_reply import MAX_ARTICLES, News, from_json


def test_news_payload_is_a_rich_reply_with_one_article_per_product(
    catalog: Catalog,
) -> None:
    products = list(catalog.products[:10])
    payload = news_payload(products, [f"https://t/{i}" for i in range(10)])

    news = from_json(payload)

    assert isinstance(news, News) and len(news.articles) == MAX_ARTICLES
    first = news.articles[0]
    assert first.title.startswith(products[0].name) and "¥" in first.title
    assert first.url == "https://t/0"
    assert first.picurl == products[0].image_url
    assert 0 < len(first.description) <= 60
