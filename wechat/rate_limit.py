"""A per-user message rate limit, shared by every replica through the store.

Each user (openid) may send ``limit`` messages per window; the window starts with
the user's first message and the count lives in one counter (``increment``: one
store round trip per message, Redis ``INCR`` + ``PEXPIRE`` in one script).

Key layout (under the store's own prefix, ``wechat:`` on Redis)::

    <app_id>:u:<openid>:rate      the message count of the current window
    <app_id>:u:<openid>:rated:<key>  a message (its de-dup key) already counted

It lies under ``wechat.erasure.user_prefix``, the prefix of every per-user key of
the channel, so erasing a user (``erase_openid``) deletes it too.

A message counts once: WeChat's retries of it (which a replica that died, or a
slow turn, makes common) get the verdict of its first try without counting, so
a follower is never limited for what WeChat resent, nor let through by it.
"""

from __future__ import annotations

import enum

from wechat.erasure import user_prefix
from wechat.storage import KeyValueStore

# A message whose first try is being counted.
_COUNTING = "counting"


class Verdict(enum.Enum):
    """What to do with one message."""

    ALLOWED = "allowed"
    # The first message over the limit in this window: answer it politely.
    LIMITED_FIRST = "limited_first"
    # Any later one in the same window: answer ``success`` and nothing else.
    LIMITED = "limited"


def rate_key(namespace: str, openid: str) -> str:
    """The counter of ``openid``, under the user's per-user prefix."""
    return user_prefix(namespace, openid) + "rate"


class RateLimiter:
    """Counts each user's messages per window in a ``KeyValueStore``.

    Args:
        store: memory or Redis (through ``FailoverStore``).
        limit: messages allowed per window; 0 turns the limit off.
        window_s: the window's length.
        namespace: put before every key (the AppID), so accounts never collide.
    """

    def __init__(
        self, store: KeyValueStore, limit: int, window_s: float, namespace: str
    ) -> None:
        self._store = store
        self._limit = limit
        self._window_s = window_s
        self._namespace = namespace

    async def check(self, openid: str, message: str | None = None) -> Verdict:
        """Counts one message of ``openid`` and says whether it may be answered.

        Args:
            openid: the sender.
            message: the message's de-dup key (``wechat.dedup.message_key``); a
                message already counted passes without counting again.
        """
        if self._limit <= 0:
            return Verdict.ALLOWED
        key = rate_key(self._namespace, openid)
        counted = user_prefix(self._namespace, openid) + f"rated:{message}"
        if message is not None:
            earlier = await self._store.set_if_absent_or_get(
                counted, _COUNTING, self._window_s
            )
            if earlier is not None:
                # A retry: the verdict of its first try (allowed while that
                # one is still being counted).
                return Verdict(earlier) if earlier != _COUNTING else Verdict.ALLOWED
        count = await self._store.increment(key, self._window_s)
        if count <= self._limit:
            verdict = Verdict.ALLOWED
        elif count == self._limit + 1:
            verdict = Verdict.LIMITED_FIRST
        else:
            verdict = Verdict.LIMITED
        if message is not None:
            await self._store.set(counted, verdict.value, self._window_s)
        return verdict
