"""Service recovery for unhappy customers: an apology coupon and a human agent.

The offer comes from ``policies.service_recovery`` in the catalog, so support
staff change it without code. Pure; no Rasa imports.
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog.model import Catalog

POLICY = "service_recovery"
DEFAULT_OFFER = "为表歉意，小极会为您申请一张补偿优惠券，客服核实后发放到您的账户。"
COUPON_ALREADY_OFFERED = "补偿券已经为您申请，客服核实后会发放到您的账户。"
HUMAN_OFFER = "如果需要，回复“人工”，马上为您转接人工客服专人处理。"


def recovery_offer(catalog: Catalog) -> str:
    """The apology coupon offered to an unhappy customer."""
    policy = catalog.policies.get(POLICY) or {}
    text = policy.get("text")
    return text if isinstance(text, str) and text.strip() else DEFAULT_OFFER


def recovery_reply(catalog: Catalog, coupon_offered: bool = False) -> str:
    """The whole recovery message: apology, coupon (once), human agent.

    Args:
        catalog: Holds the recovery policy.
        coupon_offered: The coupon was offered earlier in this conversation; it
            is not offered twice.
    """
    offer = COUPON_ALREADY_OFFERED if coupon_offered else recovery_offer(catalog)
    return "\n".join(("非常抱歉让您有不好的体验😔", offer, HUMAN_OFFER))


def coupon_offered(bot_texts: Iterable[str], catalog: Catalog) -> bool:
    """Whether the recovery coupon is among the bot's earlier messages."""
    offer = recovery_offer(catalog)
    return any(offer in text for text in bot_texts)
