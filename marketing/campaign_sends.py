"""Per-recipient state of a campaign send: the ``campaign_sends`` table.

One row per campaign and follower (unique), so each follower gets a campaign at
most once, whoever runs the send and however often:

``pending`` → ``sending`` (just before the API call) → ``sent`` | ``failed`` |
``skipped``.

A row is claimed with ``UPDATE … WHERE status = 'pending'``: two senders of the
same campaign never call the API for the same follower. ``sent`` and the
impression that clicks and orders join on are written in one transaction. A row
still ``sending`` when no send runs is *uncertain*: the process died during the
API call, and WeChat may or may not have delivered the message; it is never sent
again unless an operator asks (:meth:`CampaignSends.retry_uncertain`). No Rasa.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from marketing.store import MarketingStore
from marketing.tracking import new_tracking_id

PENDING, SENDING, SENT, FAILED, SKIPPED = (
    "pending",
    "sending",
    "sent",
    "failed",
    "skipped",
)
FINAL = (SENT, FAILED, SKIPPED)
# What claim() found.
CLAIMED, OPTED_OUT, TAKEN = "claimed", "opted_out", "taken"
_INSERT_CHUNK = 1000


@dataclass(frozen=True)
class PlannedRow:
    """A follower to send to: the variant and channel decided when planned."""

    user_id: str
    variant: str
    channel: str


@dataclass(frozen=True)
class SendRow:
    """One row of ``campaign_sends``."""

    id: int
    campaign: str
    user_id: str
    variant: str
    channel: str
    status: str
    tracking_id: str
    errcode: int | None = None
    detail: str | None = None


class CampaignSends:
    """Reads and moves the rows of ``campaign_sends``.

    Args:
        store: The marketing store holding the table.
    """

    def __init__(self, store: MarketingStore) -> None:
        self._store = store
        self._t = store.table("campaign_sends")
        self._interactions = store.table("interactions")

    def statuses(self, campaign: str) -> dict[str, str]:
        """The status of every follower with a row for ``campaign``."""
        t = self._t
        query = select(t.c.user_id, t.c.status).where(t.c.campaign == campaign)
        with self._store.engine.connect() as connection:
            return {str(r[0]): str(r[1]) for r in connection.execute(query)}

    def add_plan(self, campaign: str, planned: Sequence[PlannedRow]) -> int:
        """Adds a ``pending`` row, with its tracking id, for each new follower.

        Followers who already have a row keep it untouched (at most once per
        campaign); a concurrent planner's rows are left as they are.

        Returns:
            Rows added.
        """
        known = self.statuses(campaign)
        now = self._store.now()
        rows = [
            {
                "campaign": campaign,
                "user_id": p.user_id,
                "variant": p.variant,
                "channel": p.channel,
                "status": PENDING,
                "tracking_id": new_tracking_id(),
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for p in planned
            if p.user_id not in known
        ]
        added = 0
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = rows[start : start + _INSERT_CHUNK]
            try:
                with self._store.engine.begin() as connection:
                    connection.execute(self._t.insert(), chunk)
                added += len(chunk)
            except IntegrityError:
                # Another planner got there first for some: row by row, theirs win.
                added += self._insert_each(chunk)
        return added

    def _insert_each(self, rows: list[dict[str, object]]) -> int:
        added = 0
        for row in rows:
            try:
                with self._store.engine.begin() as connection:
                    connection.execute(self._t.insert(), [row])
                added += 1
            except IntegrityError:
                pass
        return added

    def rows(self, campaign: str, status: str) -> list[SendRow]:
        """The campaign's rows in ``status``, in the order they were planned."""
        t = self._t
        query = (
            select(t)
            .where(t.c.campaign == campaign, t.c.status == status)
            .order_by(t.c.id)
        )
        with self._store.engine.connect() as connection:
            return [
                SendRow(
                    id=r["id"],
                    campaign=r["campaign"],
                    user_id=r["user_id"],
                    variant=r["variant"],
                    channel=r["channel"],
                    status=r["status"],
                    tracking_id=r["tracking_id"] or "",
                    errcode=r["errcode"],
                    detail=r["detail"],
                )
                for r in connection.execute(query).mappings()
            ]

    def retry_uncertain(self, campaign: str) -> int:
        """Puts the campaign's ``sending`` rows back to ``pending`` (operator's call).

        Returns:
            Rows put back.
        """
        return self._move(campaign, SENDING, PENDING, "retried after uncertain send")

    def claim(self, row: SendRow) -> str:
        """Takes a pending row for the API call, re-checking the opt-out first.

        Returns:
            CLAIMED (now ``sending``), OPTED_OUT (now ``skipped``: the follower
            opted out since the plan) or TAKEN (another sender has it).
        """
        with self._store.engine.begin() as connection:
            if self._store.opted_out_in(connection, row.user_id):
                moved = self._set(
                    connection, row.id, PENDING, SKIPPED, detail="opted out"
                )
                return OPTED_OUT if moved else TAKEN
            moved = self._set(connection, row.id, PENDING, SENDING, attempt=True)
            return CLAIMED if moved else TAKEN

    def mark_sent(self, row: SendRow, channel: str, item_id: str, url: str) -> None:
        """Marks a claimed row ``sent`` and logs its impression, in one transaction."""
        now = self._store.now()
        impression = {
            "tracking_id": row.tracking_id,
            "user_id": row.user_id,
            "item_id": item_id,
            "event": "impression",
            "variant": row.variant,
            "campaign": row.campaign,
            "target_url": url,
            "created_at": now,
        }
        with self._store.engine.begin() as connection:
            self._set(connection, row.id, SENDING, SENT, channel=channel)
            connection.execute(self._interactions.insert(), [impression])

    def mark(
        self,
        row: SendRow,
        status: str,
        channel: str,
        errcode: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Moves a claimed row to ``status`` (failed, skipped, or back to pending)."""
        with self._store.engine.begin() as connection:
            self._set(
                connection,
                row.id,
                SENDING,
                status,
                channel=channel,
                errcode=errcode,
                detail=detail,
            )

    def counts(self, campaign: str) -> Counter[tuple[str, str]]:
        """Rows of the campaign by ``(status, channel)``."""
        t = self._t
        query = (
            select(t.c.status, t.c.channel, func.count())
            .where(t.c.campaign == campaign)
            .group_by(t.c.status, t.c.channel)
        )
        with self._store.engine.connect() as connection:
            return Counter(
                {(str(r[0]), str(r[1])): int(r[2]) for r in connection.execute(query)}
            )

    def _move(self, campaign: str, before: str, after: str, detail: str) -> int:
        t = self._t
        query = (
            update(t)
            .where(t.c.campaign == campaign, t.c.status == before)
            .values(status=after, detail=detail, updated_at=self._store.now())
        )
        with self._store.engine.begin() as connection:
            return int(connection.execute(query).rowcount)

    def _set(
        self,
        connection: Connection,
        row_id: int,
        before: str,
        after: str,
        attempt: bool = False,
        **values: object,
    ) -> bool:
        t = self._t
        values.update(status=after, updated_at=self._store.now())
        if attempt:
            values["attempts"] = t.c.attempts + 1
        query = update(t).where(t.c.id == row_id, t.c.status == before).values(values)
        return bool(connection.execute(query).rowcount == 1)
