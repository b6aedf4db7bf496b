"""Leads owed to the sales webhook, and the state of each one's delivery.

A row of ``lead_notifications`` per lead (its ``lead_ref`` is unique, so owing a
lead twice, as an outbox replay may, owes it once). A row is ``pending`` until
the webhook took it (``sent``) or it was given up (``failed``); ``attempts``,
``last_error`` and ``next_attempt_at`` carry the retries. A sender *claims* a
due row before posting it (moves its ``next_attempt_at`` past the post's time
limit, only if nobody moved it first), so the action server's background
notifier and an operator's ``aurora-marketing leads notify`` never post the same
lead at the same time. No Rasa.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from marketing.leads import SealedLead
from marketing.store import MarketingStore

PENDING, SENT, FAILED = "pending", "sent", "failed"
# What to do with a lead once it is stored: owe it to sales, or not.
LeadHook = Callable[[MarketingStore, SealedLead], object]


@dataclass(frozen=True)
class DueNotification:
    """A pending notification that is due, with the lead it is about."""

    id: int
    lead_ref: str
    attempts: int
    next_attempt_at: datetime
    # The lead as sales may see it (number masked); None: the lead is gone.
    lead: dict[str, object] | None


class LeadNotifications:
    """The ``lead_notifications`` table of ``store``.

    Args:
        store: The marketing store.
        clock: The time of new rows and of what is due (the store's by default).
    """

    def __init__(
        self, store: MarketingStore, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._store = store
        self._t = store.table("lead_notifications")
        self._clock = clock or store.now

    def enqueue(self, lead: SealedLead) -> bool:
        """Owes ``lead`` to sales, once: ``False`` when it was owed already."""
        now = self._clock()
        row = {
            "lead_ref": lead.ref,
            "user_id": lead.user_id,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        try:
            with self._store.engine.begin() as connection:
                connection.execute(self._t.insert(), [row])
        except IntegrityError:
            if self.status(lead.ref) is not None:
                return False
            raise
        return True

    def status(self, lead_ref: str) -> str | None:
        """``pending``, ``sent`` or ``failed``; ``None`` when the lead is not owed."""
        query = select(self._t.c.status).where(self._t.c.lead_ref == lead_ref)
        with self._store.engine.connect() as connection:
            value = connection.execute(query).scalar_one_or_none()
        return None if value is None else str(value)

    def counts(self) -> dict[str, int]:
        """Notifications by status."""
        t = self._t
        query = select(t.c.status, func.count()).group_by(t.c.status)
        with self._store.engine.connect() as connection:
            return {str(s): int(n) for s, n in connection.execute(query)}

    def due(self, limit: int) -> list[DueNotification]:
        """Pending notifications whose time has come, oldest first."""
        t, leads = self._t, self._store.table("leads")
        query = (
            select(t, leads.c.name, leads.c.phone_masked, leads.c.score)
            .add_columns(leads.c.campaign, leads.c.created_at.label("lead_created"))
            .select_from(t.outerjoin(leads, leads.c.ref == t.c.lead_ref))
            .where(t.c.status == PENDING, t.c.next_attempt_at <= self._clock())
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(limit)
        )
        with self._store.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            DueNotification(
                id=int(r["id"]),
                lead_ref=str(r["lead_ref"]),
                attempts=int(r["attempts"]),
                next_attempt_at=r["next_attempt_at"],
                lead=None
                if r["name"] is None
                else {
                    "ref": r["lead_ref"],
                    "name": r["name"],
                    "phone_masked": r["phone_masked"],
                    "score": round(float(r["score"]), 4),
                    "campaign": r["campaign"],
                    "created_at": r["lead_created"].isoformat(timespec="seconds"),
                },
            )
            for r in rows
        ]

    def claim(self, notice: DueNotification, lease: timedelta) -> bool:
        """Reserves ``notice`` for one post lasting at most ``lease``.

        Returns:
            ``False`` when another sender claimed or finished it first.
        """
        t = self._t
        query = (
            update(t)
            .where(
                t.c.id == notice.id,
                t.c.status == PENDING,
                t.c.next_attempt_at == notice.next_attempt_at,
            )
            .values(next_attempt_at=self._clock() + lease)
        )
        with self._store.engine.begin() as connection:
            return bool(connection.execute(query).rowcount == 1)

    def sent(self, notice: DueNotification) -> None:
        """Records that the webhook took ``notice``."""
        self._set(notice, status=SENT, attempts=notice.attempts + 1, last_error=None)

    def retry(self, notice: DueNotification, error: str, at: datetime) -> None:
        """Records a failed post of ``notice``; the next one at ``at``."""
        attempts = notice.attempts + 1
        self._set(notice, attempts=attempts, last_error=error, next_attempt_at=at)

    def give_up(self, notice: DueNotification, error: str) -> None:
        """Records that ``notice`` will not be posted again."""
        self._set(notice, status=FAILED, attempts=notice.attempts + 1, last_error=error)

    def _set(self, notice: DueNotification, **values: object) -> None:
        with self._store.engine.begin() as connection:
            connection.execute(
                update(self._t).where(self._t.c.id == notice.id).values(**values)
            )


def sales_lead_hook(min_score: float) -> LeadHook:
    """A :data:`LeadHook` that owes sales every stored lead scoring ``min_score`` up.

    Args:
        min_score: The lowest score sales hear of.
    """

    def owe(store: MarketingStore, lead: SealedLead) -> object:
        if lead.score < min_score:
            return False
        return LeadNotifications(store).enqueue(lead)

    return owe
