"""Handing a user over to a human agent (转人工), and keeping the bot quiet meanwhile.

The contract between the dialogue and the channel is one custom payload,
:data:`HANDOFF_PAYLOAD` (``{"wechat": {"transfer_customer_service": true}}``),
sent by ``action_handoff``; the channel's output collector recognises it with
:func:`is_handoff_request`. The channel then answers passively with WeChat's
``transfer_customer_service`` reply (the message goes to the 客服 agents'
workbench) and records a :class:`Handoffs` state for the openid: while it is set,
every message of that user is transferred the same way and no dialogue turn runs.
The agent closing the session (event ``kf_close_session``) ends it; so does
``handoff_timeout_s`` without a message from the user (each message renews it),
:data:`MAX_HANDOFF_S` in all (no agent answered, a close event lost), and the
user writing one of :data:`BACK_TO_BOT` (返回机器人): the bot never stays silent
for good.

The state lives under the user's prefix (``wechat.erasure.user_prefix``), so a
data-deletion request erases it with the rest. No Rasa.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from wechat.erasure import user_prefix
from wechat.storage import KeyValueStore

# The longest a handoff lasts, however often the user writes: after it the bot
# answers again (the next "人工" starts a new one).
MAX_HANDOFF_S: Final = 4 * 3600
# What a user writes to get the bot back before the agent closes the session.
BACK_TO_BOT: Final = frozenset(
    {"返回机器人", "回到机器人", "结束人工", "退出人工", "不要人工了"}
)


def wants_the_bot_back(text: str | None) -> bool:
    """Whether the user's message asks to leave the agent for the bot."""
    return (text or "").strip().strip("。.!！~") in BACK_TO_BOT


HANDOFF_PAYLOAD: Final[dict[str, Any]] = {"wechat": {"transfer_customer_service": True}}


def is_handoff_request(payload: Mapping[str, Any]) -> bool:
    """Whether a custom payload asks the channel to transfer to a human agent."""
    inner = payload.get("wechat")
    return isinstance(inner, Mapping) and inner.get("transfer_customer_service") is True


class Handoffs:
    """Which users are with a human agent, in the channel's key-value store.

    The key holds the handoff's start (Unix seconds), kept through renewals, so
    :data:`MAX_HANDOFF_S` counts from the transfer.

    Args:
        store: The channel's store (memory or Redis, shared by the replicas).
        ttl_s: How long a handoff lasts after the user's latest message.
        namespace: The AppID (keys' namespace).
        clock: Unix seconds now.
        max_s: The longest a handoff lasts in all.
    """

    def __init__(
        self,
        store: KeyValueStore,
        ttl_s: int,
        namespace: str,
        clock: Callable[[], float] = time.time,
        max_s: float = MAX_HANDOFF_S,
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._namespace = namespace
        self._clock = clock
        self._max_s = max_s

    def _key(self, openid: str) -> str:
        return f"{user_prefix(self._namespace, openid)}handoff"

    async def start(self, openid: str) -> None:
        """Hands ``openid`` over for ``ttl_s`` (a new handoff, started now)."""
        await self._store.set(self._key(openid), f"{self._clock():.0f}", self._ttl_s)

    async def renew(self, openid: str) -> bool:
        """Renews ``openid``'s handoff for another ``ttl_s``, if one runs.

        Returns:
            Whether the user is with an agent (False: none, or past ``max_s``,
            which ends it).
        """
        started = await self._store.get(self._key(openid))
        if started is None:
            return False
        if self._clock() - _seconds(started, self._clock()) > self._max_s:
            await self.end(openid)
            return False
        await self._store.set(self._key(openid), started, self._ttl_s)
        return True

    async def active(self, openid: str) -> bool:
        """Whether ``openid`` is with a human agent now."""
        return await self._store.get(self._key(openid)) is not None

    async def end(self, openid: str) -> None:
        """Gives ``openid`` back to the bot."""
        started = await self._store.get(self._key(openid))
        if started is not None:
            await self._store.delete_if_equal(self._key(openid), started)


def _seconds(value: str, default: float) -> float:
    try:
        return float(value)
    except ValueError:  # a key written by an older version ("1"): from now on
        return default
