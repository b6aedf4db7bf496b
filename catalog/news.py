"""News articles (图文) for recommended products, as a rich reply.

Sent as the custom part of the bot message that also carries the numbered text
list: a channel that shows 图文 (WeChat) sends the articles, a text-only one
shows the list (``rich_reply`` defines the shape and how channels show it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.formatting import price_text
from catalog.model import Product
from rich_reply import MAX_ARTICLES, Article, News, to_json

MAX_DESCRIPTION = 60


def article(product: Product, url: str) -> Article:
    """One article: title with price, the first selling points, tracked link."""
    description = "、".join(product.features[:2]) or product.description
    return Article(
        title=f"{product.name} {price_text(product)}",
        url=url,
        description=description[:MAX_DESCRIPTION],
        picurl=product.image_url,
    )


def news_payload(products: Sequence[Product], urls: Sequence[str]) -> dict[str, Any]:
    """The custom JSON for ``products`` with their tracked ``urls``."""
    articles = [article(p, u) for p, u in zip(products, urls, strict=True)]
    return to_json(News(tuple(articles[:MAX_ARTICLES])))
