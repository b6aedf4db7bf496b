"""What a piece of marketing copy is about, shared by every generator backend."""

from __future__ import annotations

from dataclasses import dataclass

# The copy's tone for the customer's mood: no hard sell to an unhappy customer.
TONES = {"positive": "热情", "neutral": "亲切", "negative": "温和"}
DEFAULT_TONE = "亲切"


@dataclass(frozen=True)
class CopyRequest:
    """What to write about.

    Attributes:
        kind: ``promotion``, ``campaign`` or ``product``.
        item_id: Catalog id of the subject (logged with the impression).
        title: Its name or title.
        facts: True statements to build on (description, offer, price, period).
        tone: ``热情``, ``亲切`` or ``温和`` (from the customer's sentiment).
        campaign: Campaign or promotion id the copy belongs to, if any.
    """

    kind: str
    item_id: str
    title: str
    facts: tuple[str, ...]
    tone: str = DEFAULT_TONE
    campaign: str | None = None


def tone_for(sentiment: str | None) -> str:
    """The copy's tone for the customer's mood."""
    return TONES.get(sentiment or "", DEFAULT_TONE)
