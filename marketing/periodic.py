"""A daemon thread that runs one job every few seconds until stopped.

The action server's background work (the outbox replay, the sales webhook)
is each a :class:`Periodic` subclass with its own ``run_once``; the thread,
its start and its stop are here once. No Rasa.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod


class Periodic(ABC):
    """Runs :meth:`run_once` every ``interval_s`` in a daemon thread.

    Args:
        name: The thread's name (in logs and thread dumps).
        interval_s: Seconds between runs.
    """

    def __init__(self, name: str, interval_s: float) -> None:
        self._name = name
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def run_once(self) -> object:
        """One run of the job; must not raise for a dependency being down."""

    def start(self) -> None:
        """Starts the background thread (a daemon: it never holds up an exit)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stops the thread after its current run."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval_s):
            self._run_guarded()

    def _run_guarded(self) -> None:
        """One run from the thread; subclasses catch what their job may raise."""
        self.run_once()
