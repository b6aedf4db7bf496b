"""Campaign messages with the copy a marketer approved.

A campaign variant whose copy was drafted and approved
(:mod:`marketing.copy_drafts`) is sent with that copy: a text message as the
copy, the tracked link and the opt-out line; a news article with the copy as
its description. A variant without approved copy keeps the message the marketer
wrote in ``data/campaigns.yml``; pending, edited-but-unapproved and rejected
drafts are never sent. No Rasa.
"""

from __future__ import annotations

from dataclasses import replace

from marketing.campaigns import LINK_PLACEHOLDER, NEWS, Campaign, Message, Variant
from marketing.copy_drafts import CopyDrafts

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


def with_approved_copy(campaign: Campaign, drafts: CopyDrafts) -> Campaign:
    """``campaign`` with each variant's newest approved copy, where it has one."""
    variants: list[Variant] = []
    for variant in campaign.variants:
        approved = drafts.approved(campaign.id, variant.name)
        if approved is None:
            variants.append(variant)
        else:
            message = approved_message(variant.message, approved.text)
            variants.append(replace(variant, message=message))
    return replace(campaign, variants=tuple(variants))
