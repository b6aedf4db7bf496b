"""The scheduler: runs the scheduled campaign sends when they are due.

Started with the bot (``make run`` starts ``python -m marketing.cli scheduler``)
or from cron (``aurora-marketing scheduler --once``). Each due run is claimed
atomically (:meth:`CampaignRuns.claim_due`), so several schedulers (replicas, or
cron next to ``make run``) never run one twice; while it runs, a heartbeat keeps
others off it, and a run whose scheduler died is taken over after
:data:`~marketing.campaign_runs.STALE_AFTER` and resumes through the idempotent
send. WeChat's daily quota postpones a run by ``quota_retry``; a shutdown puts it
back to run at once on the next start. No Rasa.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from marketing.campaign_runs import DONE, FAILED, CampaignRuns, Run
from marketing.send_summary import SendSummary, headline

logger = logging.getLogger(__name__)

# How often a waiting scheduler looks for due runs.
DEFAULT_POLL_S = 30.0
# How often a running run says its scheduler is alive (well under STALE_AFTER).
HEARTBEAT_S = 30.0
# When a run that hit WeChat's daily quota (45009) tries again.
QUOTA_RETRY = timedelta(hours=1)

# Sends one run (plans and executes it); ``stop`` asks it to stop early.
RunSend = Callable[[Run, asyncio.Event], Awaitable[SendSummary]]


class Scheduler:
    """Claims due runs and sends them, one at a time.

    Args:
        runs: The scheduled runs.
        run_send: Sends one run (campaign, segment and API wiring: the CLI's).
        clock: The store's clock (UTC, naive).
        poll_s: Pause between looks for due runs.
        heartbeat_s: Pause between heartbeats of a running run.
    """

    def __init__(
        self,
        runs: CampaignRuns,
        run_send: RunSend,
        clock: Callable[[], datetime],
        poll_s: float = DEFAULT_POLL_S,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self._runs = runs
        self._run_send = run_send
        self._clock = clock
        self._poll_s = poll_s
        self._heartbeat_s = heartbeat_s

    async def run_once(self, stop: asyncio.Event | None = None) -> list[Run]:
        """Runs every run due now, one after the other.

        Returns:
            The runs, as they ended.
        """
        stop = stop or asyncio.Event()
        ended = []
        while not stop.is_set():
            run = await asyncio.to_thread(self._runs.claim_due, self._clock())
            if run is None:
                break
            await self._execute(run, stop)
            ended.append(await asyncio.to_thread(self._runs.get, run.id))
        return ended

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Runs due runs until ``stop`` is set, looking every ``poll_s`` seconds."""
        while not stop.is_set():
            try:
                await self.run_once(stop)
            except Exception:
                # The database is down, say: try again at the next poll.
                logger.exception("The scheduler could not look for due runs.")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll_s)

    async def _execute(self, run: Run, stop: asyncio.Event) -> None:
        logger.info(
            "Running campaign run %s: %s to %s.", run.id, run.campaign, run.segment
        )
        beat = asyncio.create_task(self._heartbeat(run.id))
        try:
            summary = await self._run_send(run, stop)
        except Exception as e:
            detail = f"{type(e).__name__}: {e}".splitlines()[0]
            logger.error("Campaign run %s failed: %s", run.id, detail)
            await asyncio.to_thread(
                self._runs.finish, run.id, FAILED, detail, self._clock()
            )
            return
        finally:
            beat.cancel()
        line = headline(summary)
        now = self._clock()
        if summary.quota_reached:
            await asyncio.to_thread(
                self._runs.postpone, run.id, now + QUOTA_RETRY, line
            )
        elif summary.stopped:
            await asyncio.to_thread(self._runs.postpone, run.id, now, line)
        else:
            await asyncio.to_thread(self._runs.finish, run.id, DONE, line, now)
        logger.info("Campaign run %s: %s", run.id, line)

    async def _heartbeat(self, run_id: int) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                await asyncio.to_thread(self._runs.heartbeat, run_id, self._clock())
            except Exception:
                # A missed beat only lets another scheduler resume the run (safe).
                logger.warning("Heartbeat of campaign run %s failed.", run_id)
