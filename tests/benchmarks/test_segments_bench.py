"""The segments benchmark seeds exactly what it says and measures the real thing."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from benchmarks.segments_bench import run
from marketing.segments import load_segments
from marketing.settings import DEFAULT_SEGMENTS_PATH
from tests.services import service_unavailable


def test_a_small_run_on_postgres() -> None:
    try:
        result = run(200)
    except OperationalError as e:
        service_unavailable(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {e}")
    assert (result.users, result.events, result.followers) == (200, 2000, 200)
    assert set(result.sizes) == set(load_segments(DEFAULT_SEGMENTS_PATH))
    assert 0 < result.sizes["earbud-fans"] < 200
    assert "200 users × 10 events (2,000)" in result.markdown()
