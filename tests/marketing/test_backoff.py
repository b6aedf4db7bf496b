"""Pauses between tries: doubling to a ceiling, cut short by a stop."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import OperationalError

from marketing.backoff import Backoff, reason, wait


def test_pauses_double_to_the_ceiling_and_reset() -> None:
    backoff = Backoff(first_s=0.5, max_s=3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


async def test_a_stop_cuts_the_pause_short() -> None:
    stop, lost = asyncio.Event(), asyncio.Event()
    assert await wait(stop, 0.01) is False
    lost.set()
    assert await wait(stop, 60, lost) is True
    stop.set()
    assert await wait(stop, 60) is True


def test_the_reason_is_one_line_of_the_drivers_message() -> None:
    error = OperationalError("SELECT 1", {}, Exception("refused\nDETAIL: more"))
    assert reason(error) == "OperationalError: refused"
    assert reason(RuntimeError()) == "RuntimeError"
