from __future__ import annotations

import pytest

from marketing.send_rate import TokenBucket


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_calls_are_spaced_at_the_rate() -> None:
    time = FakeTime()
    bucket = TokenBucket(20, clock=time.clock, sleep=time.sleep)
    starts = []
    for _ in range(5):
        await bucket.acquire()
        starts.append(time.now)
    # The first token is there; each next one comes 1/20 s later.
    assert starts == pytest.approx([100.0, 100.05, 100.1, 100.15, 100.2])


async def test_idle_time_saves_at_most_the_burst() -> None:
    time = FakeTime()
    bucket = TokenBucket(10, burst=3, clock=time.clock, sleep=time.sleep)
    time.now += 60  # a long pause saves 3 tokens, not 600
    for _ in range(3):
        await bucket.acquire()
    assert time.sleeps == []
    await bucket.acquire()
    assert time.sleeps == [pytest.approx(0.1)]


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)
