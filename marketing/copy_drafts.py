"""Copy drafts and their review: pending, approved (sent and shown) or rejected.

A generator's drafts are stored pending with the checks they failed
(:mod:`copywriting.checks`) and the brief they were written from. A marketer
approves a draft that passes every check, edits one (the edit is checked again,
gets a new revision and waits for approval) or rejects it with a reason (final:
a rejected draft is not edited back to life). Campaign pushes
(:mod:`marketing.approved_copy`) and chat use approved copy only.

Status changes are conditional updates (``WHERE status = ... AND revision =
...``), and an approval may name the revision the reviewer read: a marketer
never approves a text another one changed after they looked at it. Synchronous
SQLAlchemy Core over the store's engine; no Rasa.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, select, update
from sqlalchemy.engine import RowMapping

from marketing.store import MarketingStore

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATUSES = (PENDING, APPROVED, REJECTED)


class DraftNotFound(LookupError):
    """No draft has that id."""


class ReviewError(ValueError):
    """The review step is not allowed for the draft as it is now."""


@dataclass(frozen=True)
class CheckFailure:
    """One failed check of a draft: which, and what a marketer should fix."""

    check: str
    detail: str


@dataclass(frozen=True)
class NewDraft:
    """A checked draft, ready to store.

    Attributes:
        campaign: The campaign id.
        variant: The campaign variant it is for.
        subject: The catalog id chat shows it for.
        tone: Its tone.
        segment: The segment it was written for, if any.
        backend: ``template``, ``transformers`` or ``openai``.
        model: The model (folder, file or server model name) that wrote it.
        text: The copy.
        failures: The checks it failed.
        brief: The brief, as stored (JSON).
    """

    campaign: str
    variant: str
    subject: str
    tone: str
    segment: str | None
    backend: str
    model: str
    text: str
    failures: tuple[CheckFailure, ...]
    brief: str


@dataclass(frozen=True)
class StoredDraft(NewDraft):
    """A draft as stored (its id), with its review state."""

    id: int
    status: str
    edited: bool
    revision: int
    reviewer: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def passes(self) -> bool:
        """Whether it passed every check (only such a draft may be approved)."""
        return not self.failures


class CopyDrafts:
    """The ``copy_drafts`` table.

    Args:
        store: The marketing store (engine, clock, tables).
    """

    def __init__(self, store: MarketingStore) -> None:
        self._store = store
        self._table: Table = store.table("copy_drafts")

    def add(self, drafts: Sequence[NewDraft]) -> list[int]:
        """Stores drafts as pending; returns their ids in order."""
        now = self._store.now()
        ids = []
        with self._store.engine.begin() as connection:
            for draft in drafts:
                values = {
                    "campaign": draft.campaign,
                    "variant": draft.variant,
                    "subject": draft.subject,
                    "tone": draft.tone,
                    "segment": draft.segment,
                    "backend": draft.backend,
                    "model": draft.model[:200],
                    "text": draft.text,
                    "failures": _failures_json(draft.failures),
                    "brief": draft.brief,
                    "status": PENDING,
                    "edited": False,
                    "revision": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                result = connection.execute(self._table.insert().values(**values))
                ids.append(int(result.inserted_primary_key[0]))
        return ids

    def get(self, draft_id: int) -> StoredDraft:
        """The draft ``draft_id``.

        Raises:
            DraftNotFound: There is none.
        """
        query = select(self._table).where(self._table.c.id == draft_id)
        with self._store.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise DraftNotFound(f"no copy draft {draft_id}")
        return _draft(row)

    def find(
        self,
        campaign: str | None = None,
        status: str | None = None,
        variant: str | None = None,
    ) -> list[StoredDraft]:
        """Drafts, oldest first, optionally of one campaign, variant or status."""
        t = self._table
        query = select(t).order_by(t.c.id)
        if campaign is not None:
            query = query.where(t.c.campaign == campaign)
        if variant is not None:
            query = query.where(t.c.variant == variant)
        if status is not None:
            query = query.where(t.c.status == status)
        with self._store.engine.connect() as connection:
            return [_draft(r) for r in connection.execute(query).mappings()]

    def approved(
        self, campaign: str, variant: str, segment: str | None = None
    ) -> list[StoredDraft]:
        """The variant's approved copy for a send to ``segment``, newest first.

        Copy drafted for that segment comes first, then copy drafted for no
        segment; copy written for another segment (another tone) never.
        """
        drafts = [
            d
            for d in self.find(campaign, APPROVED, variant)
            if d.segment in (segment, None)
        ]
        return sorted(
            drafts,
            key=lambda d: (d.segment is not None, d.updated_at, d.id),
            reverse=True,
        )

    def approved_for(self, subject: str, tone: str) -> list[StoredDraft]:
        """Approved copy about ``subject`` in ``tone``, oldest first (for chat)."""
        t = self._table
        query = (
            select(t)
            .where(t.c.subject == subject, t.c.tone == tone, t.c.status == APPROVED)
            .order_by(t.c.id)
        )
        with self._store.engine.connect() as connection:
            return [_draft(r) for r in connection.execute(query).mappings()]

    def approve(
        self, draft_id: int, reviewer: str, revision: int | None = None
    ) -> StoredDraft:
        """Approves a pending draft that passes every check.

        Args:
            draft_id: The draft.
            reviewer: Who approves it.
            revision: The revision the reviewer read; another one is refused.

        Raises:
            DraftNotFound: There is none.
            ReviewError: It failed a check (edit it first), is not pending, or
                was edited since the reviewer read it.
        """
        draft = self.get(draft_id)
        if revision is not None and revision != draft.revision:
            raise ReviewError(
                f"copy draft {draft_id} was edited since you read it (revision "
                f"{revision}, now {draft.revision}): read it again"
            )
        if not draft.passes:
            failed = ", ".join(sorted({f.check for f in draft.failures}))
            raise ReviewError(
                f"copy draft {draft_id} failed {failed}: edit it before approving"
            )
        return self._move(draft, (PENDING,), APPROVED, reviewer, None)

    def reject(self, draft_id: int, reviewer: str, note: str = "") -> StoredDraft:
        """Rejects a pending draft, or withdraws an approved one.

        Raises:
            DraftNotFound: There is none.
            ReviewError: It is rejected already.
        """
        draft = self.get(draft_id)
        return self._move(draft, (PENDING, APPROVED), REJECTED, reviewer, note or None)

    def edit(
        self,
        draft_id: int,
        text: str,
        failures: Iterable[CheckFailure],
        reviewer: str,
    ) -> StoredDraft:
        """Replaces a draft's text (checked again by the caller); it is pending again.

        The edit is a new revision. An approved draft that is edited is no longer
        sent until it is approved again; a rejected one stays rejected.

        Raises:
            DraftNotFound: There is none.
            ReviewError: The text is empty, or the draft was rejected.
        """
        if not text.strip():
            raise ReviewError("the edited copy is empty")
        t = self._table
        values = {
            "text": text.strip(),
            "failures": _failures_json(tuple(failures)),
            "status": PENDING,
            "edited": True,
            "revision": t.c.revision + 1,
            "reviewer": reviewer,
            "note": None,
            "updated_at": self._store.now(),
        }
        editable = (t.c.id == draft_id) & (t.c.status != REJECTED)
        with self._store.engine.begin() as connection:
            result = connection.execute(update(t).where(editable).values(**values))
        if result.rowcount == 0:
            self.get(draft_id)  # DraftNotFound when there is none
            raise ReviewError(
                f"copy draft {draft_id} was rejected: draft new copy instead"
            )
        return self.get(draft_id)

    def _move(
        self,
        draft: StoredDraft,
        allowed: tuple[str, ...],
        status: str,
        reviewer: str,
        note: str | None,
    ) -> StoredDraft:
        t = self._table
        values = {
            "status": status,
            "reviewer": reviewer,
            "note": note,
            "updated_at": self._store.now(),
        }
        # Only from the state it was read in: a concurrent review wins, not both.
        query = (
            update(t)
            .where(t.c.id == draft.id, t.c.status.in_(allowed))
            .where(t.c.status == draft.status, t.c.revision == draft.revision)
            .values(**values)
        )
        with self._store.engine.begin() as connection:
            moved = connection.execute(query).rowcount
        if moved == 0:
            now = self.get(draft.id)
            raise ReviewError(
                f"copy draft {draft.id} is {now.status}"
                + (
                    " and was edited meanwhile"
                    if now.revision != draft.revision
                    else ""
                )
                + f"; it cannot become {status}"
            )
        return self.get(draft.id)


def _failures_json(failures: tuple[CheckFailure, ...]) -> str:
    return json.dumps(
        [{"check": f.check, "detail": f.detail} for f in failures], ensure_ascii=False
    )


def _draft(row: RowMapping) -> StoredDraft:
    failures = tuple(
        CheckFailure(str(f["check"]), str(f["detail"]))
        for f in json.loads(row["failures"] or "[]")
    )
    return StoredDraft(
        id=row["id"],
        campaign=row["campaign"],
        variant=row["variant"],
        subject=row["subject"],
        tone=row["tone"],
        segment=row["segment"],
        backend=row["backend"],
        model=row["model"],
        text=row["text"],
        failures=failures,
        brief=row["brief"],
        status=row["status"],
        edited=bool(row["edited"]),
        revision=int(row["revision"] or 1),
        reviewer=row["reviewer"],
        note=row["note"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
