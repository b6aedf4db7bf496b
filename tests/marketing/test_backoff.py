"""Pauses between tries double up to a ceiling and start over once it answers."""

from __future__ import annotations

from marketing.backoff import Backoff


def test_pauses_double_to_the_ceiling_and_reset() -> None:
    backoff = Backoff(first_s=0.5, max_s=3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5
