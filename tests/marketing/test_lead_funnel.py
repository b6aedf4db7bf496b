"""The lead funnel over a seeded store, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import pytest

from marketing.lead_funnel import lead_funnel
from marketing.store import MarketingStore
from tests.servers.dashboard_data import FUNNEL, MIN_SCORE, seed


@pytest.mark.parametrize("db", ["marketing_db", "postgres_db"])
def test_each_step_counts_the_followers_of_the_step_before(
    db: str, request: pytest.FixtureRequest
) -> None:
    store: MarketingStore = request.getfixturevalue(db)
    seed(store)
    funnel = lead_funnel(store, MIN_SCORE)
    # Hand count (dashboard_data): 10 writers + 2 who only clicked; 5 consenting
    # leads (a 6th without consent is left out); scores 0.9, 0.8 and exactly 0.6
    # qualify; 2 of those bought (the order of a follower without a lead is not
    # in the funnel's last step).
    assert {s.step: s.count for s in funnel} == FUNNEL
    assert [s.step for s in funnel] == list(FUNNEL)
    assert funnel[3].label == "lead score ≥ 0.6"


def test_a_higher_threshold_narrows_the_last_steps(
    marketing_db: MarketingStore,
) -> None:
    seed(marketing_db)
    counts = [s.count for s in lead_funnel(marketing_db, 0.85)]
    assert counts == [12, 10, 5, 1, 1]


def test_an_empty_store_is_an_empty_funnel(marketing_db: MarketingStore) -> None:
    assert [s.count for s in lead_funnel(marketing_db, 0.6)] == [0, 0, 0, 0, 0]
