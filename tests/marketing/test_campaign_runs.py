from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from marketing.campaign_runs import STALE_AFTER, CampaignRuns
from marketing.store import MarketingStore
from tests.marketing.fixtures import T0


def test_a_due_run_is_claimed_once(marketing_db: MarketingStore) -> None:
    runs = CampaignRuns(marketing_db)
    first = runs.add("c", "s", T0)
    runs.add("c", "s", T0 + timedelta(hours=1))
    claimed = runs.claim_due(T0)
    assert claimed is not None and claimed.id == first and claimed.status == "running"
    assert runs.claim_due(T0) is None  # the other is not due yet


def test_an_abandoned_run_is_taken_over_but_a_live_one_is_not(
    marketing_db: MarketingStore,
) -> None:
    runs = CampaignRuns(marketing_db)
    run_id = runs.add("c", "s", T0)
    assert runs.claim_due(T0) is not None
    runs.heartbeat(run_id, T0 + timedelta(minutes=1))
    assert runs.claim_due(T0 + timedelta(minutes=2)) is None
    taken = runs.claim_due(
        T0 + timedelta(minutes=1) + STALE_AFTER + timedelta(seconds=1)
    )
    assert taken is not None and taken.id == run_id


def test_a_postponed_run_comes_back_when_due(marketing_db: MarketingStore) -> None:
    runs = CampaignRuns(marketing_db)
    run_id = runs.add("c", "s", T0)
    runs.claim_due(T0)
    runs.postpone(run_id, T0 + timedelta(hours=1), "quota reached")
    assert runs.claim_due(T0 + timedelta(minutes=30)) is None
    back = runs.claim_due(T0 + timedelta(hours=1))
    assert back is not None and back.detail == "quota reached"


def test_on_postgres_racing_schedulers_claim_each_run_once(
    postgres_db: MarketingStore,
) -> None:
    runs = CampaignRuns(postgres_db)
    ids = {runs.add("c", f"s{i}", T0) for i in range(20)}

    def claim_all() -> list[int]:
        mine = []
        while (run := runs.claim_due(T0)) is not None:
            mine.append(run.id)
        return mine

    with ThreadPoolExecutor(4) as pool:
        claimed = [
            r for part in pool.map(lambda _: claim_all(), range(4)) for r in part
        ]
    assert sorted(claimed) == sorted(ids)
    assert {r.status for r in runs.all()} == {"running"}
