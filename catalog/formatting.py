"""How catalog items read in a WeChat chat: short lines, prices, one link each.

Pure formatting of catalog data (names, prices, features, offers) into the list
lines that ``domain.yml`` responses take as variables; the sentences around them
live in those responses, and the actions decide what to show.
"""

from __future__ import annotations

from collections.abc import Sequence

from catalog.budget import format_price
from catalog.model import Campaign, Product, Promotion, Store

SOLD_OUT = "暂时缺货"


def price_text(product: Product) -> str:
    """``¥4,999``, with the original price when the product is discounted."""
    text = format_price(product.price)
    if product.original_price is not None and product.original_price > product.price:
        text += f"（原价{format_price(product.original_price)}）"
    return text


def product_line(
    product: Product, index: int | None = None, needs: Sequence[str] = ()
) -> str:
    """One list line: ``1. 极光 X5 Pro ¥4,999｜旗舰影像、长续航（适合拍照）``.

    Args:
        product: The product.
        index: Its number in a list, if any.
        needs: The customer's stated needs it meets.
    """
    prefix = f"{index}. " if index is not None else ""
    line = f"{prefix}{product.name} {price_text(product)}"
    if product.features:
        line += "｜" + "、".join(product.features[:2])
    if needs:
        line += f"（适合{'、'.join(needs)}）"
    if product.stock <= 0:
        line += f"（{SOLD_OUT}）"
    return line


def product_details(
    product: Product, promotions: Sequence[Promotion] = ()
) -> list[str]:
    """A product's description, selling points and live offers, one per line."""
    details = [product.description] if product.description else []
    details.extend(f"· {feature}" for feature in product.features)
    details.extend(promotion_titles(promotions))
    return details


def promotion_titles(promotions: Sequence[Promotion]) -> list[str]:
    """``🎁 以旧换新补贴`` for each promotion."""
    return [f"🎁 {promotion.title}" for promotion in promotions]


def lines(items: Sequence[str]) -> str:
    """Items as lines that follow a heading: each starts with a line break."""
    return "".join(f"\n{item}" for item in items)


def promotion_line(promotion: Promotion) -> str:
    """``· 以旧换新补贴（11/01-11/30）：旧机抵扣最高 1500 元``."""
    period = f"{promotion.start:%m/%d}-{promotion.end:%m/%d}"
    return f"· {promotion.title}（{period}）：{promotion.description}"


def campaign_line(campaign: Campaign) -> str:
    """``· 新品体验官招募（至 12/10）：… 奖励：…``."""
    line = f"· {campaign.title}（至 {campaign.end:%m/%d}）：{campaign.description}"
    if campaign.reward:
        line += f" 奖励：{campaign.reward}"
    return line


def store_line(store: Store) -> str:
    """``📍 极光智能 上海南京西路店｜南京西路 1266 号｜10:00-22:00｜021-...``."""
    return f"📍 {store.name}｜{store.address}｜{store.hours}｜{store.phone}"
