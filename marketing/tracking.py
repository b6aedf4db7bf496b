"""Effect tracking: tracking ids, tracked links and the impressions to log.

Every recommendation and generated copy is logged as an impression with a
tracking id; the link sent to the customer carries it, so a click on the link
(``servers.click_server``) or a follow-up question about the item (the product
actions) is logged against the same impression. Pure standard library.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from marketing.store import IMPRESSION, Interaction

TRACKING_PARAM = "trk"
# Random bytes of a tracking id: 128 bits, 32 hex characters (the column's
# width). Knowing one link tells nothing about another customer's: an id cannot
# be guessed, enumerated or derived, so a click or an order cannot be forged into
# someone else's record.
TRACKING_ID_BYTES = 16


def new_tracking_id() -> str:
    """A fresh, unguessable id for one impression: 32 hex characters."""
    return secrets.token_hex(TRACKING_ID_BYTES)


def tracked_url(url: str, tracking_id: str, base: str | None = None) -> str:
    """The link to send: through the click server when configured, else ``?trk=``.

    Args:
        url: Where the customer should land.
        tracking_id: The impression's id.
        base: Base URL of the click server (``AURORA_TRACKING_BASE_URL``).
    """
    if base:
        return f"{base.rstrip('/')}/t/{tracking_id}"
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), (TRACKING_PARAM, tracking_id)]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class Shown:
    """One item put in front of the customer, with its tracking id and link."""

    item_id: str
    tracking_id: str
    url: str
    target_url: str


def show(items: Sequence[tuple[str, str]], base: str | None = None) -> list[Shown]:
    """Tracking ids and links for ``(item id, landing URL)`` pairs."""
    shown = []
    for item_id, target in items:
        tracking_id = new_tracking_id()
        shown.append(
            Shown(item_id, tracking_id, tracked_url(target, tracking_id, base), target)
        )
    return shown


def impressions(
    user_id: str,
    shown: Sequence[Shown],
    variant: str,
    campaign: str | None,
    now: datetime,
) -> list[Interaction]:
    """The impressions to log for what was shown."""
    return [
        Interaction(
            user_id=user_id,
            item_id=s.item_id,
            event=IMPRESSION,
            variant=variant,
            campaign=campaign,
            tracking_id=s.tracking_id,
            created_at=now,
            target_url=s.target_url,
        )
        for s in shown
    ]
