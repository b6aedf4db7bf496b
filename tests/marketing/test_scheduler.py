from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from marketing.campaign_runs import CampaignRuns, Run
from marketing.scheduler import QUOTA_RETRY, Scheduler
from marketing.send_summary import SendSummary
from marketing.store import MarketingStore
from tests.marketing.fixtures import T0


def scheduler(
    store: MarketingStore, summaries: list[SendSummary], sent: list[int]
) -> Scheduler:
    async def run_send(run: Run, stop: asyncio.Event) -> SendSummary:
        sent.append(run.id)
        return summaries.pop(0)

    return Scheduler(CampaignRuns(store), run_send, clock=lambda: T0, poll_s=0.01)


async def test_due_runs_run_in_order_and_finish_done(
    marketing_db: MarketingStore,
) -> None:
    runs = CampaignRuns(marketing_db)
    first = runs.add("a", "s", T0 - timedelta(minutes=2))
    second = runs.add("b", "s", T0 - timedelta(minutes=1))
    runs.add("c", "s", T0 + timedelta(minutes=1))
    sent: list[int] = []
    summary = SendSummary("a")
    summary.outcomes[("sent", "customer_service")] = 3
    ended = await scheduler(marketing_db, [summary, SendSummary("b")], sent).run_once()
    assert sent == [first, second]
    assert [(r.id, r.status) for r in ended] == [(first, "done"), (second, "done")]
    assert ended[0].detail == "a: sent 3 (customer_service 3)"


async def test_the_daily_quota_postpones_the_run(marketing_db: MarketingStore) -> None:
    runs = CampaignRuns(marketing_db)
    runs.add("a", "s", T0)
    summary = SendSummary("a", quota_reached=True, pending=7)
    (ended,) = await scheduler(marketing_db, [summary], []).run_once()
    assert ended.status == "scheduled"
    assert ended.run_at == T0 + QUOTA_RETRY
    assert "daily quota reached (45009), 7 pending" in (ended.detail or "")


async def test_a_failing_send_marks_the_run_failed(
    marketing_db: MarketingStore,
) -> None:
    runs = CampaignRuns(marketing_db)
    run_id = runs.add("a", "s", T0)

    async def broken(run: Run, stop: asyncio.Event) -> SendSummary:
        raise ValueError("segments.yml: bad rule\nmore")

    await Scheduler(runs, broken, clock=lambda: T0).run_once()
    run = runs.get(run_id)
    assert (run.status, run.detail) == ("failed", "ValueError: segments.yml: bad rule")


async def test_run_forever_stops_when_asked(marketing_db: MarketingStore) -> None:
    runs = CampaignRuns(marketing_db)
    stop = asyncio.Event()
    sent: list[int] = []
    loop = scheduler(marketing_db, [SendSummary("a")], sent)
    task = asyncio.create_task(loop.run_forever(stop))
    run_id = runs.add("a", "s", datetime(2000, 1, 1))
    for _ in range(500):
        if runs.get(run_id).status == "done":
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert sent == [run_id] and runs.get(run_id).status == "done"
