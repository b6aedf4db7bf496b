"""A profile per follower, built from what the store logged about them.

The QR scene they subscribed through, the intents and product categories they
asked about, clicks and purchases, their best lead score, the mood of their
latest messages, when they last wrote (WeChat's 48-hour window), and whether
they opted out of or consented to promotions. Segments (:mod:`marketing.segments`)
are rules over profiles; campaign sends (:mod:`marketing.sending`) read the
window, consent and opt-out from them. No Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Profile:
    """What we know of one follower (by openid), as of when it was built."""

    user_id: str
    # The QR scene of their (first) subscribe, when they came through one.
    scene: str | None = None
    # Intents of their messages, and the product categories they named.
    intents: frozenset[str] = field(default_factory=frozenset)
    categories: frozenset[str] = field(default_factory=frozenset)
    clicks: int = 0
    purchases: int = 0
    revenue: Decimal = Decimal(0)
    # Their best lead score (0..1); None without a lead.
    lead_score: float | None = None
    # The sentiment of their latest message (positive | neutral | negative).
    sentiment: str | None = None
    # Their latest message or event: WeChat's 48-hour window counts from it.
    last_active_at: datetime | None = None
    # Subscribed now (a later unsubscribe event turns it off).
    subscribed: bool = True
    opted_out: bool = False
    # Their latest yes to promotions (a lead's marketing consent), not withdrawn.
    marketing_consent: bool = False
    # Catalog campaigns they signed up for (campaign_signups).
    campaigns: frozenset[str] = field(default_factory=frozenset)
