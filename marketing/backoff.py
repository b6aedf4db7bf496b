"""Exponential backoff: the pauses between tries of something that is down."""

from __future__ import annotations

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
