"""Service recovery for unhappy customers: an apology coupon and a human agent.

The coupon comes from ``policies.service_recovery.text`` in the catalog, so
support staff change it without code; a catalog without that policy promises
no coupon. The sentences around it are ``domain.yml`` responses. Pure; no Rasa
imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from catalog.model import Catalog

POLICY = "service_recovery"
# The responses that carry the coupon offer (see domain.yml); utter_recovery_offer
# is the name of the coupon before it had a code, still in older conversations.
OFFER_RESPONSES = frozenset(
    {"utter_recovery_coupon", "utter_recovery_offer", "utter_service_recovery"}
)


def recovery_offer(catalog: Catalog) -> str | None:
    """The apology coupon the catalog's policy offers, or ``None`` without one."""
    policy = catalog.policies.get(POLICY) or {}
    text = policy.get("text")
    return text.strip() if isinstance(text, str) and text.strip() else None


def coupon_offered(events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether an earlier bot message of the conversation offered the coupon.

    Args:
        events: The conversation's events as Rasa sends them to actions; a bot
            message names its response in ``metadata.utter_action``.
    """
    return any(
        event.get("event") == "bot"
        and (event.get("metadata") or {}).get("utter_action") in OFFER_RESPONSES
        for event in events
    )
