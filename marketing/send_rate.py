"""An async token bucket: at most ``rate`` WeChat API calls per second.

WeChat limits calls per account (and per day, errcode 45009); a campaign send
spreads its calls evenly instead of bursting into the limit. Every API call of
a send, retries and template fallbacks included, takes one token. No Rasa.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """Hands out tokens at ``rate_per_s``, with at most ``burst`` saved up.

    Args:
        rate_per_s: Tokens per second (the configured API rate).
        burst: Tokens that may accumulate while nobody asks; 1 keeps the calls
            evenly spaced.
        clock: Monotonic seconds (injectable for tests).
        sleep: Waits that many seconds (injectable for tests).

    Raises:
        ValueError: ``rate_per_s`` or ``burst`` is not positive.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate_per_s <= 0 or burst <= 0:
            raise ValueError("rate_per_s and burst must be positive")
        self.rate_per_s = rate_per_s
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._last = clock()
        # One waiter at a time: callers are served in the order they came.
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Waits for a token and takes it."""
        async with self._lock:
            now = self._clock()
            self._tokens = min(
                self._burst, self._tokens + (now - self._last) * self.rate_per_s
            )
            self._last = now
            # Take it now and wait off the debt: no re-check loop that rounding
            # could keep spinning.
            self._tokens -= 1
            if self._tokens < 0:
                await self._sleep(-self._tokens / self.rate_per_s)
