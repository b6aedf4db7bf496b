"""Service recovery for unhappy customers: an apology coupon and a human agent.

The coupon's offer comes from ``policies.service_recovery.text`` in the catalog,
so support staff change it without code; a catalog without that policy promises
no coupon. The coupon itself (a single-use code) is :mod:`marketing.coupons`;
the sentences around it are ``domain.yml`` responses. Pure; no Rasa imports.
"""

from __future__ import annotations

from catalog.model import Catalog

POLICY = "service_recovery"


def recovery_offer(catalog: Catalog) -> str | None:
    """The apology coupon the catalog's policy offers, or ``None`` without one."""
    policy = catalog.policies.get(POLICY) or {}
    text = policy.get("text")
    return text.strip() if isinstance(text, str) and text.strip() else None
