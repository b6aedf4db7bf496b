"""Campaign messages with the copy a marketer approved.

A campaign variant whose copy was drafted and approved
(:mod:`marketing.copy_drafts`) is sent with that copy: a text message as the
copy, the tracked link and the opt-out line; a news article with the copy as
its description. The copy is the newest approved for the send's segment (else
for no segment) that the caller still accepts (the CLI re-checks it against
today's catalog: a price or offer that changed since the approval is not sent).
A variant without such copy keeps the message the marketer wrote in
``data/campaigns.yml``; pending, edited-but-unapproved and rejected drafts are
never sent. No Rasa.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from marketing.campaigns import LINK_PLACEHOLDER, NEWS, Campaign, Message, Variant
from marketing.copy_drafts import CopyDrafts, StoredDraft

# Whether approved copy of a variant may still be sent (true as of today).
Accept = Callable[[Campaign, Variant, StoredDraft], bool]

# What follows the copy in a text message: the tracked link and how to opt out.
MESSAGE_TAIL = f" 👉 {LINK_PLACEHOLDER}  回复 TD 退订"


def message_text(copy: str, link: str = LINK_PLACEHOLDER) -> str:
    """The text message for ``copy``: the copy, ``link`` and the opt-out line."""
    return copy + MESSAGE_TAIL.replace(LINK_PLACEHOLDER, link)


def approved_message(message: Message, copy: str) -> Message:
    """``message`` carrying ``copy``: as its text, or as a news article's summary."""
    if message.type == NEWS:
        return replace(message, description=copy)
    return replace(message, text=message_text(copy))


def _any(campaign: Campaign, variant: Variant, draft: StoredDraft) -> bool:
    return True


def approved_copy(
    campaign: Campaign,
    variant: Variant,
    drafts: CopyDrafts,
    segment: str | None = None,
    accept: Accept = _any,
) -> StoredDraft | None:
    """The approved copy a send of ``variant`` to ``segment`` uses, if any."""
    for draft in drafts.approved(campaign.id, variant.name, segment):
        if accept(campaign, variant, draft):
            return draft
    return None


def with_approved_copy(
    campaign: Campaign,
    drafts: CopyDrafts,
    segment: str | None = None,
    accept: Accept = _any,
) -> Campaign:
    """``campaign`` with each variant's approved copy, where it has some."""
    variants: list[Variant] = []
    for variant in campaign.variants:
        draft = approved_copy(campaign, variant, drafts, segment, accept)
        if draft is None:
            variants.append(variant)
        else:
            message = approved_message(variant.message, draft.text)
            variants.append(replace(variant, message=message))
    return replace(campaign, variants=tuple(variants))
