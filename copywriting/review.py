"""A marketer's edit of a draft, checked again against the brief it came from.

Approving and rejecting are status changes of the store
(:class:`marketing.copy_drafts.CopyDrafts`); an edit also needs the checks
(:mod:`copywriting.checks`), which live here so the CLI and the dashboard edit
the same way. No Rasa.
"""

from __future__ import annotations

from copywriting.brief import CopyBrief
from copywriting.checks import DraftChecker
from marketing.copy_drafts import CopyDrafts, StoredDraft


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
