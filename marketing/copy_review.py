"""The copy review the admin server is given: list, approve, edit, reject drafts.

The admin server (:mod:`servers.copy_review`) reviews drafts through a
:class:`CopyReview`, beside the :class:`~marketing.dashboard.DashboardSource` it
reads numbers from. :class:`StoreCopyReview` is the production one: the
:class:`~marketing.copy_drafts.CopyDrafts` table of the marketing store, and an
edit checked again against its stored brief with
:func:`copywriting.review.edit_draft`, as the CLI does. Its methods are
synchronous (the server calls them in a worker thread) and raise
:class:`~marketing.copy_drafts.DraftNotFound` and
:class:`~marketing.copy_drafts.ReviewError` for a refused step, whatever the
database raises when it is down. No Rasa.
"""

from __future__ import annotations

from typing import Protocol

from catalog.loader import load_catalog
from catalog.model import Catalog
from copywriting.brief import BriefError
from copywriting.checks import DraftChecker
from copywriting.review import edit_draft
from marketing.connection import StoreFactory
from marketing.copy_drafts import CopyDrafts, ReviewError, StoredDraft


class CopyReview(Protocol):
    """Drafts and their review steps."""

    def drafts(
        self, campaign: str | None = None, status: str | None = None
    ) -> list[StoredDraft]:
        """Drafts, oldest first, optionally of one campaign or status."""

    def approve(
        self, draft_id: int, reviewer: str, revision: int | None = None
    ) -> StoredDraft:
        """Approves a pending draft that passes every check (at ``revision``)."""

    def reject(self, draft_id: int, reviewer: str, note: str) -> StoredDraft:
        """Rejects a draft (an approved one is withdrawn)."""

    def edit(self, draft_id: int, text: str, reviewer: str) -> StoredDraft:
        """Replaces a draft's copy, checked again; it is pending afterwards."""


class StoreCopyReview:
    """The copy review over the marketing store.

    Args:
        store: Makes the marketing store (a ``LazyStore`` in the server).
        checker: Checks an edited draft (built once: it holds the catalog).
    """

    def __init__(self, store: StoreFactory, checker: DraftChecker) -> None:
        self._store = store
        self._checker = checker

    def drafts(
        self, campaign: str | None = None, status: str | None = None
    ) -> list[StoredDraft]:
        """Drafts, oldest first."""
        return CopyDrafts(self._store()).find(campaign, status)

    def approve(
        self, draft_id: int, reviewer: str, revision: int | None = None
    ) -> StoredDraft:
        """Approves a draft, if still at ``revision`` when one is given.

        Raises:
            DraftNotFound: There is none.
            ReviewError: It failed a check, is not pending or was edited since.
        """
        return CopyDrafts(self._store()).approve(draft_id, reviewer, revision)

    def reject(self, draft_id: int, reviewer: str, note: str) -> StoredDraft:
        """Rejects a draft.

        Raises:
            DraftNotFound: There is none.
            ReviewError: It is rejected already.
        """
        return CopyDrafts(self._store()).reject(draft_id, reviewer, note)

    def edit(self, draft_id: int, text: str, reviewer: str) -> StoredDraft:
        """Replaces a draft's copy, checked against the brief it was written from.

        Raises:
            DraftNotFound: There is none.
            ReviewError: ``text`` is empty, or the stored brief is unreadable.
        """
        drafts = CopyDrafts(self._store())
        try:
            return edit_draft(drafts, self._checker, draft_id, text, reviewer)
        except BriefError as e:
            raise ReviewError(str(e)) from e


def store_copy_review(
    store: StoreFactory, catalog: Catalog | None = None
) -> StoreCopyReview:
    """The production review: the store, edits checked with the catalog.

    Args:
        store: Makes the marketing store.
        catalog: The catalog (``data/catalog.yml`` is read when not given).

    Raises:
        catalog.errors.CatalogError: The catalog file is broken.
    """
    return StoreCopyReview(store, DraftChecker(catalog or load_catalog()))
