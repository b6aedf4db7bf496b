"""The copy a chat turn shows: approved copy about its subject, else the template.

A customer waits at most WeChat's 5 seconds for a reply, and a local model takes
longer than that for one draft on a CPU; a draft is also not shown to anyone
before a marketer approved it. So chat never generates: it shows copy a
marketer approved (:mod:`marketing.copy_drafts`) about the turn's subject in the
turn's tone, the same one to the same customer, unless it names a day already
past, and the template otherwise.
Pure function; the action reads the approved drafts.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from copywriting.checks import dates_in
from copywriting.compliance import clean
from copywriting.request import CopyRequest
from copywriting.templates import render
from marketing.copy_drafts import StoredDraft
from telemetry import metrics

TEMPLATE_VARIANT = "template"
# Impressions of approved copy name the draft: reports compare drafts.
APPROVED_VARIANT = "copy-{id}"


@dataclass(frozen=True)
class ChatCopy:
    """Copy to show, with the variant its impression is logged under."""

    text: str
    variant: str


def chat_copy(
    request: CopyRequest,
    approved: Sequence[StoredDraft],
    user_id: str,
    today: date,
) -> ChatCopy:
    """Approved copy for ``request`` if there is some, else the template's.

    Args:
        request: The turn's subject and tone.
        approved: Approved drafts about that subject in that tone.
        user_id: The customer: picks among several approved drafts, the same
            one every time.
        today: Copy that names a day already past ("11月30日前") is stale.
    """
    usable = [
        d
        for d in approved
        if d.subject == request.item_id
        and d.tone == request.tone
        and not names_a_past_day(d.text, today)
    ]
    if usable:
        key = f"{request.item_id}:{user_id}".encode()
        draft = usable[zlib.crc32(key) % len(usable)]
        metrics.CHAT_COPIES.labels(metrics.APPROVED_COPY).inc()
        return ChatCopy(draft.text, APPROVED_VARIANT.format(id=draft.id))
    metrics.CHAT_COPIES.labels(metrics.TEMPLATE_COPY).inc()
    return ChatCopy(clean(render(request)), TEMPLATE_VARIANT)


def names_a_past_day(text: str, today: date) -> bool:
    """Whether ``text`` names a day (month and day, no year) before ``today``.

    Copy carries no year: a day up to half a year before today is past, one
    further back is next year's ("1月5日" read in December).
    """
    for month, day in dates_in(text):
        months_back = (today.month - month) % 12
        if 0 < months_back <= 6 or (months_back == 0 and day < today.day):
            return True
    return False
