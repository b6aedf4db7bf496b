"""Pushing a campaign to followers through WeChat's API, resumable and at most once.

A send first *plans*: each recipient's variant (:meth:`Campaign.variant_for`) and
channel (:mod:`marketing.send_plan`), written as ``pending`` rows of
``campaign_sends`` with one tracking id each (:mod:`marketing.campaign_sends`).
Then it works through the campaign's pending rows, a few at a time
(``concurrency``) and at most ``rate_per_s`` API calls a second
(:class:`~marketing.send_rate.TokenBucket`).

Guarantee: **a follower gets a campaign at most once.** A row is claimed
(``sending``) before its API call and finished (``sent`` + impression, ``failed``
or ``skipped``) after it; a re-run only touches ``pending`` rows, so it sends
nothing new to anyone already planned, and a crashed send resumes with the rows
it had not reached. A row left ``sending`` by a crash is *uncertain* (WeChat may
have delivered it before the process died): it is reported, never resent, unless
the operator asks (``retry_uncertain``) and accepts a possible duplicate. Within
a run, WeChat's -1 and a connection that could not be made are retried; a call
whose answer was lost (a timeout, a dropped connection) is not: its row stays
``sending`` and is reported uncertain, as after a crash.

Per recipient, WeChat's refusals never abort the send: 45015 (outside the
window) falls back to the template where the follower may get it, else skips;
45047 (too many messages to this user) fails that follower; 45009 (the daily
quota) stops calling and leaves the rest pending for a later run. An opt-out is
re-checked just before each call. No Rasa.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marketing.campaign_sends import (
    CLAIMED,
    FAILED,
    FINAL,
    OPTED_OUT,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    CampaignSends,
    PlannedRow,
    SendRow,
)
from marketing.campaigns import Campaign
from marketing.profiles import Profile
from marketing.send_delivery import (
    DEFAULT_BACKOFF_S,
    DEFAULT_TRIES,
    OUTSIDE_WINDOW,
    QUOTA_REACHED,
    ApiPoster,
    Delivery,
    may_have_arrived,
)
from marketing.send_plan import (
    CUSTOMER_SERVICE,
    TEMPLATE,
    UNSUBSCRIBED,
    plan_recipient,
    template_allowed,
)
from marketing.send_rate import TokenBucket
from marketing.send_summary import SendSummary
from marketing.store import MarketingStore

logger = logging.getLogger(__name__)

# Runs a synchronous store call off the event loop.
DbCall = Callable[..., Awaitable[Any]]
# API calls in flight at once: enough to hide WeChat's latency at the rate limit.
DEFAULT_CONCURRENCY = 8


@dataclass(frozen=True)
class PreviewLine:
    """What a dry run says of one recipient."""

    user_id: str
    variant: str
    channel: str | None
    # "send", "skip", or the status of the row an earlier run left.
    action: str
    reason: str = ""


@dataclass
class PreparedSend:
    """A planned send: the pending rows to work through and what is known so far."""

    campaign: Campaign
    rows: list[SendRow]
    summary: SendSummary
    # Followers who may get the template when WeChat says 45015.
    template_ok: frozenset[str] = frozenset()
    # Followers who must get nothing any more (unsubscribed or opted out since).
    blocked: dict[str, str] = field(default_factory=dict)


class CampaignSender:
    """Plans and sends campaigns for one store and one WeChat account.

    Args:
        store: The marketing store (``campaign_sends``, ``interactions``).
        api: WeChat's API (``WeChatApiClient`` or a stand-in).
        rate_per_s: API calls per second at most (``settings.send_rate_per_s``).
        tracking_base_url: The click server's base (``settings.tracking_base_url``).
        concurrency: API calls in flight at once.
        tries: Tries of a call failing with -1 or a transport error.
        backoff_s: Pause before the second try, doubled for each next one.
        sleep: Waits that many seconds (injectable for tests).
    """

    def __init__(
        self,
        store: MarketingStore,
        api: ApiPoster,
        rate_per_s: float,
        tracking_base_url: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        tries: int = DEFAULT_TRIES,
        backoff_s: float = DEFAULT_BACKOFF_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._sends = CampaignSends(store)
        self._delivery = Delivery(
            api,
            TokenBucket(rate_per_s, sleep=sleep),
            tracking_base_url,
            tries,
            backoff_s,
            sleep,
        )
        self._concurrency = concurrency
        # SQLite takes one writer at a time: many threads only queue on its lock
        # (and its busy handler's sleeps; the send collapses to ~30/s), two keep
        # one commit going while the next is prepared (benchmarks/send_bench.py).
        sqlite = store.engine.dialect.name == "sqlite"
        self._db_threads = 2 if sqlite else concurrency

    def preview(
        self, campaign: Campaign, recipients: Sequence[Profile], now: datetime
    ) -> list[PreviewLine]:
        """Who would get what through which channel; writes nothing."""
        statuses = self._sends.statuses(campaign.id)
        lines = []
        for profile in _unique(recipients):
            plan = plan_recipient(campaign, profile, now)
            status = statuses.get(profile.user_id)
            if status is not None:
                lines.append(PreviewLine(plan.user_id, plan.variant, None, status))
            elif plan.channel is None:
                lines.append(
                    PreviewLine(plan.user_id, plan.variant, None, "skip", plan.reason)
                )
            else:
                lines.append(
                    PreviewLine(plan.user_id, plan.variant, plan.channel, "send")
                )
        return lines

    def prepare(
        self,
        campaign: Campaign,
        recipients: Sequence[Profile],
        now: datetime,
        retry_uncertain: bool = False,
    ) -> PreparedSend:
        """Writes the plan (new followers only) and collects the rows to send."""
        summary = SendSummary(campaign.id)
        profiles = _unique(recipients)
        before = self._sends.statuses(campaign.id)
        planned = []
        for profile in profiles:
            plan = plan_recipient(campaign, profile, now)
            status = before.get(profile.user_id)
            if status in FINAL:
                summary.done_before += 1
            elif plan.channel is None and status is None:
                summary.not_planned[plan.reason] += 1
            elif plan.channel is not None:
                planned.append(PlannedRow(plan.user_id, plan.variant, plan.channel))
        if retry_uncertain:
            self._sends.retry_uncertain(campaign.id)
        self._sends.add_plan(campaign.id, planned)
        summary.uncertain = [r.user_id for r in self._sends.rows(campaign.id, SENDING)]
        # Only this call's followers: rows another call planned (a send cut
        # short by the daily quota) wait for a call that names them again, with
        # their window, consent and subscription as of then.
        named = {p.user_id for p in profiles}
        pending = self._sends.rows(campaign.id, PENDING)
        return PreparedSend(
            campaign=campaign,
            rows=[r for r in pending if r.user_id in named],
            summary=summary,
            template_ok=frozenset(
                p.user_id for p in profiles if template_allowed(campaign, p)
            ),
            blocked={
                p.user_id: "opted out" if p.opted_out else UNSUBSCRIBED
                for p in profiles
                if p.opted_out or not p.subscribed
            },
        )

    async def execute(
        self,
        prepared: PreparedSend,
        progress: Callable[[int], None] | None = None,
        stop: asyncio.Event | None = None,
    ) -> SendSummary:
        """Works through the pending rows; ``stop`` ends it early, rows kept pending.

        Args:
            prepared: What :meth:`prepare` planned.
            progress: Called with 1 for each row dealt with.
            stop: Once set, no new row is started (a graceful shutdown).
        """
        summary = prepared.summary
        queue = deque(prepared.rows)

        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(self._db_threads, "campaign-send-db") as pool:

            def db(call: Callable[..., Any], *args: Any) -> Awaitable[Any]:
                # The store is synchronous: off the event loop, in the pool.
                return loop.run_in_executor(pool, call, *args)

            async def worker() -> None:
                while queue and not summary.quota_reached:
                    if stop is not None and stop.is_set():
                        summary.stopped = True
                        return
                    await self._one(prepared, queue.popleft(), db)
                    if progress is not None:
                        progress(1)

            await asyncio.gather(*(worker() for _ in range(self._concurrency)))
            summary.totals = await db(self._sends.counts, prepared.campaign.id)
        summary.pending = summary.totals.get((PENDING, CUSTOMER_SERVICE), 0)
        summary.pending += summary.totals.get((PENDING, TEMPLATE), 0)
        return summary

    async def send(
        self,
        campaign: Campaign,
        recipients: Sequence[Profile],
        now: datetime,
        retry_uncertain: bool = False,
    ) -> SendSummary:
        """Plans and sends in one go (:meth:`prepare`, then :meth:`execute`)."""
        prepared = await asyncio.to_thread(
            self.prepare, campaign, recipients, now, retry_uncertain
        )
        return await self.execute(prepared)

    async def _one(self, prepared: PreparedSend, row: SendRow, db: DbCall) -> None:
        summary = prepared.summary
        claim = await db(self._sends.claim, row)
        if claim == OPTED_OUT:
            summary.outcomes[(SKIPPED, row.channel)] += 1
        if claim != CLAIMED:
            return  # opted out since the plan, or another sender has the row
        if row.user_id in prepared.blocked:
            reason = prepared.blocked[row.user_id]
            await self._finish(db, summary, row, SKIPPED, row.channel, None, reason)
            return
        template_ok = row.user_id in prepared.template_ok
        if row.channel == TEMPLATE and not template_ok:
            # Planned as a template earlier; the consent is gone since.
            reason = "no consent to promotions any more"
            await self._finish(db, summary, row, SKIPPED, row.channel, None, reason)
            return
        try:
            channel, error = await self._delivery.deliver(
                prepared.campaign, row, template_ok
            )
        except Exception as e:  # one follower's bug never stops the send
            logger.exception("Campaign %s: a send failed.", prepared.campaign.id)
            detail = f"{type(e).__name__}: {e}"
            await self._finish(db, summary, row, FAILED, row.channel, None, detail)
            return
        if error is not None and may_have_arrived(error):
            # Left "sending": uncertain, like a crash mid-call (never resent
            # unless the operator asks).
            summary.uncertain.append(row.user_id)
            return
        if error is None:
            campaign = prepared.campaign
            await db(self._sends.mark_sent, row, channel, campaign.item, campaign.url)
            summary.outcomes[(SENT, channel)] += 1
        elif error.errcode == QUOTA_REACHED:
            summary.quota_reached = True  # every worker stops after its call
            await db(
                self._sends.mark, row, PENDING, channel, error.errcode, error.errmsg
            )
        elif error.errcode == OUTSIDE_WINDOW:
            detail = "outside the 48-hour window, no template for this follower"
            await self._finish(
                db, summary, row, SKIPPED, channel, error.errcode, detail
            )
        else:
            await self._finish(
                db, summary, row, FAILED, channel, error.errcode, error.errmsg
            )

    async def _finish(
        self,
        db: DbCall,
        summary: SendSummary,
        row: SendRow,
        status: str,
        channel: str,
        errcode: int | None,
        detail: str | None,
    ) -> None:
        await db(self._sends.mark, row, status, channel, errcode, detail)
        summary.outcomes[(status, channel)] += 1
        if errcode is not None:
            summary.errcodes[errcode] += 1


def _unique(recipients: Sequence[Profile]) -> list[Profile]:
    """The recipients, each follower once (the first profile given wins)."""
    seen: dict[str, Profile] = {}
    for profile in recipients:
        seen.setdefault(profile.user_id, profile)
    return list(seen.values())
