"""Scheduled campaign sends: the ``campaign_runs`` table.

``aurora-marketing send CAMPAIGN --segment NAME --at TIME`` adds a ``scheduled``
run; the scheduler (:mod:`marketing.scheduler`) claims due runs and sends them:

``scheduled`` → ``running`` → ``done`` | ``failed`` (or ``scheduled`` again,
later, when WeChat's daily quota ran out); ``cancelled`` by an operator.

A run is claimed with ``UPDATE … WHERE status = 'scheduled'`` (or a ``running``
run whose heartbeat stopped: its scheduler died), so two schedulers never run
the same run at once; the send itself is idempotent
(:mod:`marketing.campaign_sends`), so a resumed run sends nobody twice. No Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import RowMapping

from marketing.store import MarketingStore

SCHEDULED, RUNNING, DONE, FAILED, CANCELLED = (
    "scheduled",
    "running",
    "done",
    "failed",
    "cancelled",
)
# A running run whose scheduler has not touched it for this long was abandoned
# (the scheduler died); another may take it over.
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Run:
    """One scheduled send."""

    id: int
    campaign: str
    segment: str
    run_at: datetime
    status: str
    detail: str | None
    updated_at: datetime


class CampaignRuns:
    """Adds, lists, claims and finishes scheduled sends.

    Args:
        store: The marketing store holding ``campaign_runs``.
    """

    def __init__(self, store: MarketingStore) -> None:
        self._store = store
        self._t = store.table("campaign_runs")

    def add(self, campaign: str, segment: str, run_at: datetime) -> int:
        """Schedules a send of ``campaign`` to ``segment`` at ``run_at`` (UTC).

        Returns:
            The run's id.
        """
        now = self._store.now()
        row = {
            "campaign": campaign,
            "segment": segment,
            "run_at": run_at,
            "status": SCHEDULED,
            "created_at": now,
            "updated_at": now,
        }
        with self._store.engine.begin() as connection:
            result = connection.execute(self._t.insert().values(row))
            return int(result.inserted_primary_key[0])

    def all(self) -> list[Run]:
        """Every run, the next due first."""
        query = select(self._t).order_by(self._t.c.run_at, self._t.c.id)
        with self._store.engine.connect() as connection:
            return [_run(r) for r in connection.execute(query).mappings()]

    def claim_due(self, now: datetime) -> Run | None:
        """Takes the first due run (or an abandoned one); None when there is none.

        Only one caller gets a given run, across processes.
        """
        t = self._t
        stale = now - STALE_AFTER
        takeable = or_(
            t.c.status == SCHEDULED,
            (t.c.status == RUNNING) & (t.c.updated_at < stale),
        )
        candidates = (
            select(t.c.id, t.c.status)
            .where(t.c.run_at <= now, takeable)
            .order_by(t.c.run_at, t.c.id)
        )
        with self._store.engine.connect() as connection:
            found = connection.execute(candidates).all()
        for run_id, status in found:
            claim = update(t).where(t.c.id == run_id, t.c.status == status)
            if status == RUNNING:
                claim = claim.where(t.c.updated_at < stale)
            with self._store.engine.begin() as connection:
                taken = connection.execute(
                    claim.values(status=RUNNING, updated_at=now)
                ).rowcount
            if taken == 1:
                return self.get(int(run_id))
        return None

    def get(self, run_id: int) -> Run:
        """The run ``run_id``.

        Raises:
            KeyError: No such run.
        """
        query = select(self._t).where(self._t.c.id == run_id)
        with self._store.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise KeyError(f"no campaign run {run_id}")
        return _run(row)

    def heartbeat(self, run_id: int, now: datetime) -> None:
        """Says the run's scheduler is alive (keeps others from taking it over)."""
        self._set(run_id, RUNNING, RUNNING, now)

    def finish(self, run_id: int, status: str, detail: str, now: datetime) -> None:
        """Ends a running run as ``status`` (done or failed) with a summary line."""
        self._set(run_id, RUNNING, status, now, detail=detail)

    def postpone(self, run_id: int, until: datetime, detail: str) -> None:
        """Schedules a running run again at ``until`` (quota reached, shutdown)."""
        self._set(run_id, RUNNING, SCHEDULED, self._store.now(), detail, until)

    def cancel(self, run_id: int) -> bool:
        """Cancels a run that has not started.

        Returns:
            Whether it was cancelled (False: unknown, running or over).
        """
        return self._set(run_id, SCHEDULED, CANCELLED, self._store.now(), "cancelled")

    def _set(
        self,
        run_id: int,
        before: str,
        after: str,
        now: datetime,
        detail: str | None = None,
        run_at: datetime | None = None,
    ) -> bool:
        t = self._t
        values: dict[str, object] = {"status": after, "updated_at": now}
        if detail is not None:
            values["detail"] = detail
        if run_at is not None:
            values["run_at"] = run_at
        query = update(t).where(t.c.id == run_id, t.c.status == before).values(values)
        with self._store.engine.begin() as connection:
            return bool(connection.execute(query).rowcount == 1)


def _run(row: RowMapping) -> Run:
    return Run(
        id=int(row["id"]),
        campaign=str(row["campaign"]),
        segment=str(row["segment"]),
        run_at=row["run_at"],
        status=str(row["status"]),
        detail=row["detail"],
        updated_at=row["updated_at"],
    )
