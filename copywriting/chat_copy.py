"""The copy a chat turn shows: approved copy about its subject, else the template.

A customer waits at most WeChat's 5 seconds for a reply, and a local model takes
longer than that for one draft on a CPU; a draft is also not shown to anyone
before a marketer approved it. So chat never generates: it shows copy a
marketer approved (:mod:`marketing.copy_drafts`) about the turn's subject in the
turn's tone, the same one to the same customer, as long as it is still true of
the subject today (checked against the catalog's facts: an ended offer, a
changed price or a push's "今晚开奖" is not) and names no day already past; the
template otherwise.
Pure function; the action reads the approved drafts.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from copywriting.compliance import clean
from copywriting.quantities import days_in
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
    holds: Callable[[str], bool] = lambda text: True,
) -> ChatCopy:
    """Approved copy for ``request`` if there is some, else the template's.

    Args:
        request: The turn's subject and tone.
        approved: Approved drafts about that subject in that tone.
        user_id: The customer: picks among several approved drafts, the same
            one every time.
        today: Copy that names a day already past ("11月30日前") is stale.
        holds: Whether a copy is still true of the subject today (the action
            checks it against :func:`copywriting.brief.subject_brief`).
    """
    usable = [
        d
        for d in approved
        if d.subject == request.item_id
        and d.tone == request.tone
        and not names_a_past_day(d.text, today)
        and holds(d.text)
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
    for day in days_in(text):
        if day.starts_range:
            continue  # "11月20日至12月11日" is over when its end is
        months_back = (today.month - day.month) % 12
        if 0 < months_back <= 6 or (months_back == 0 and day.day < today.day):
            return True
    return False
