"""Checks again after drafting: a marketer's edit, and approved copy before a send.

Approving and rejecting are status changes of the store
(:class:`marketing.copy_drafts.CopyDrafts`); an edit also needs the checks
(:mod:`copywriting.checks`), which live here so the CLI and the dashboard edit
the same way. Approved copy is checked once more against today's brief before
it is sent (:func:`current_copy`): a price or offer that changed since the
approval makes it stale. No Rasa.
"""

from __future__ import annotations

import logging
from datetime import date

from catalog.model import Catalog
from copywriting.brief import CopyBrief, brief_for
from copywriting.checks import DraftChecker
from marketing.approved_copy import Accept
from marketing.campaigns import Campaign, Variant
from marketing.copy_drafts import CopyDrafts, StoredDraft

logger = logging.getLogger(__name__)


def edit_draft(
    drafts: CopyDrafts,
    checker: DraftChecker,
    draft_id: int,
    text: str,
    reviewer: str,
) -> StoredDraft:
    """Replaces the copy of draft ``draft_id`` with ``text``, checked again.

    The draft is pending afterwards (an approved one is no longer sent) and may
    be approved if the edit passes every check.

    Raises:
        marketing.copy_drafts.DraftNotFound: There is no such draft.
        marketing.copy_drafts.ReviewError: ``text`` is empty.
        copywriting.brief.BriefError: The stored brief is unreadable.
    """
    draft = drafts.get(draft_id)
    text = text.strip()
    failures = checker.check(text, CopyBrief.from_json(draft.brief))
    return drafts.edit(draft_id, text, failures, reviewer)


def current_copy(catalog: Catalog, today: date) -> Accept:
    """Accepts approved copy that still passes every check against today's brief."""
    checker = DraftChecker(catalog)

    def accept(campaign: Campaign, variant: Variant, draft: StoredDraft) -> bool:
        brief = brief_for(campaign, variant, catalog, today)
        failures = checker.check(draft.text, brief)
        if failures:
            logger.warning(
                "Approved copy #%s of %s/%s no longer matches today's facts (%s); "
                "not sending it.",
                draft.id,
                campaign.id,
                variant.name,
                "; ".join(f.detail for f in failures),
            )
        return not failures

    return accept
