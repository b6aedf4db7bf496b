"""WeChat news-article (图文) payloads for recommended products.

The shape is the customer-service message API's ``news`` message, sent as the
custom (``json_message``) part of a bot message next to the numbered text list:
a channel that can send 图文 uses it, any other channel shows the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actions.catalog import Product
from actions.replies import price_text

# WeChat shows at most 8 articles in one news message.
MAX_ARTICLES = 8
MAX_DESCRIPTION = 60


def article(product: Product, url: str) -> dict[str, str]:
    """One article: title with price, the first selling points, tracked link."""
    description = "、".join(product.features[:2]) or product.description
    return {
        "title": f"{product.name} {price_text(product)}",
        "description": description[:MAX_DESCRIPTION],
        "url": url,
        "picurl": product.image_url,
    }


def news_payload(products: Sequence[Product], urls: Sequence[str]) -> dict[str, Any]:
    """The custom payload for ``products`` with their tracked ``urls``."""
    articles = [article(p, u) for p, u in zip(products, urls, strict=True)]
    return {"msgtype": "news", "news": {"articles": articles[:MAX_ARTICLES]}}
