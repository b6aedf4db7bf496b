"""The replay cache of plain mode: one body per signed (timestamp, nonce).

In plain mode WeChat signs only token, timestamp and nonce, so whoever saw one
signed query could send it again with a body of their own within the timestamp
window. The cache remembers sha256(body) under (timestamp, nonce) until the
timestamp leaves the window: the same pair with another body is a forgery and is
rejected; the same body again is WeChat's retry and passes on to the de-dup. Safe
mode needs no cache: ``msg_signature`` covers the encrypted body.

Key layout (under the store's own prefix, ``wechat:`` on Redis)::

    <app_id>:replay:<timestamp>:<nonce>   sha256 hex of the body

One store round trip per request (``set_if_absent_or_get``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from wechat.errors import ReplayedRequest
from wechat.storage import KeyValueStore

# Kept a little past the window, so a pair is never forgotten while still valid.
_MARGIN_S = 1.0


class ReplayCache:
    """Remembers which body each signed (timestamp, nonce) came with.

    Args:
        store: memory or Redis (through ``FailoverStore``).
        window_s: the accepted age of a timestamp (``timestamp_window_s``).
        namespace: put before every key (the AppID), so accounts never collide.
        clock: wall-clock seconds (tests).
    """

    def __init__(
        self,
        store: KeyValueStore,
        window_s: float,
        namespace: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._window_s = window_s
        self._namespace = namespace
        self._clock = clock

    async def check(self, timestamp: str, nonce: str, body: bytes) -> None:
        """Records ``body`` for (timestamp, nonce), or compares it with the first.

        Args:
            timestamp: the verified ``timestamp`` query parameter (an integer).
            nonce: the verified ``nonce`` query parameter.
            body: the raw request body.

        Raises:
            ReplayedRequest: the pair came before with a different body.
        """
        digest = hashlib.sha256(body).hexdigest()
        # The timestamp stays acceptable until it is window_s in the past.
        ttl_s = int(timestamp) + self._window_s - self._clock() + _MARGIN_S
        key = f"{self._namespace}:replay:{timestamp}:{nonce}"
        first = await self._store.set_if_absent_or_get(
            key, digest, max(_MARGIN_S, ttl_s)
        )
        if first is not None and first != digest:
            raise ReplayedRequest(
                "timestamp and nonce were already used with another body"
            )
