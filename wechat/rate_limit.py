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
slow turn, makes common) are let through without counting, so a follower is
never limited for what WeChat resent.
"""

from __future__ import annotations

import enum

from wechat.erasure import user_prefix
from wechat.storage import KeyValueStore


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
        if message is not None and not await self._store.set_if_absent(
            counted, "1", self._window_s
        ):
            return Verdict.ALLOWED
        count = await self._store.increment(key, self._window_s)
        if count <= self._limit:
            return Verdict.ALLOWED
        if count == self._limit + 1:
            return Verdict.LIMITED_FIRST
        return Verdict.LIMITED
