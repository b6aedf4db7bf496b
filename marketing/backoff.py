"""Exponential backoff: the pauses between tries of something that is down.

Also the pause itself, cut short by a stop, and the one line a log says of why.
"""

from __future__ import annotations

import asyncio

# The first pause, and the longest.
FIRST_DELAY_S, MAX_DELAY_S = 0.5, 30.0


class Backoff:
    """Doubles the pause after each failed try, up to ``max_s``.

    Args:
        first_s: The first pause.
        max_s: The longest pause.
    """

    def __init__(self, first_s: float = FIRST_DELAY_S, max_s: float = MAX_DELAY_S):
        self._first_s = first_s
        self._max_s = max_s
        self._next_s = first_s

    def next_delay(self) -> float:
        """The pause before the next try (each call doubles the following one)."""
        delay = self._next_s
        self._next_s = min(self._max_s, self._next_s * 2)
        return delay

    def reset(self) -> None:
        """The thing answered: the next outage starts with the first pause."""
        self._next_s = self._first_s


async def wait(
    stop: asyncio.Event, delay_s: float, lost: asyncio.Event | None = None
) -> bool:
    """Waits ``delay_s``; True as soon as ``stop`` (or ``lost``) is set."""
    events = [stop] if lost is None else [stop, lost]
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(
            waiters, timeout=delay_s, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)


def reason(error: BaseException) -> str:
    """The first line of an error, for a log line (a driver's own message)."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
