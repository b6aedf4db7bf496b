"""Exactly-once turns: one Rasa turn per WeChat message, one outcome for all tries.

WeChat sends a message up to three times. The first try to ``claim`` its key (an
atomic set-if-absent with TTL) runs the turn; every try, on any replica, then waits
for the turn's *decision*, also set-if-absent so exactly one wins:

- ``passive:<xml>``: the first reply goes back in the HTTP answer; every try gets
  the same XML (WeChat shows only the answer of the try it still waits for);
- ``api``: the replies go through the customer-service API; every try gets
  ``success``;
- ``empty``: nothing to say; every try gets ``success``.

In this process a waiting try is woken by a future; a try on another replica polls
the store and, when its own deadline comes first, decides ``api`` itself. Claims
and decisions are stored under the sender's prefix (``wechat.erasure``), so a
data-deletion request finds them.
"""

from __future__ import annotations

import asyncio
import logging

from wechat.erasure import user_prefix
from wechat.storage import KeyValueStore

logger = logging.getLogger(__name__)

API = "api"
EMPTY = "empty"
PASSIVE_PREFIX = "passive:"
# How often a try on another replica looks for the decision.
POLL_S = 0.05


def passive(xml: str) -> str:
    """The decision to answer passively with ``xml``."""
    return PASSIVE_PREFIX + xml


def passive_xml(decision: str) -> str | None:
    """The XML of a passive decision; None for ``api`` and ``empty``."""
    if decision.startswith(PASSIVE_PREFIX):
        return decision[len(PASSIVE_PREFIX) :]
    return None


def message_key(fields: dict[str, str]) -> str:
    """The de-dup key of a message: its MsgId, or sender + CreateTime for events.

    Events also carry their type and key, so two different menu clicks within one
    second stay two events, while WeChat's retries (identical fields) collide.
    """
    msg_id = fields.get("MsgId") or fields.get("MsgID")
    if msg_id and fields.get("MsgType", "").lower() != "event":
        return f"msg:{msg_id}"
    return ":".join(
        [
            "evt",
            fields.get("FromUserName", ""),
            fields.get("CreateTime", ""),
            fields.get("Event", "").lower(),
            fields.get("EventKey", ""),
        ]
    )


class Deduplicator:
    """Claims and decisions of turns, stored in a ``KeyValueStore``.

    Args:
        store: memory or Redis.
        ttl_s: how long claims and decisions are kept.
        namespace: put before every key (the AppID), so accounts never collide.
    """

    def __init__(self, store: KeyValueStore, ttl_s: float, namespace: str) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._namespace = namespace
        self._local: dict[str, asyncio.Future[str]] = {}

    def _key(self, openid: str, kind: str, key: str) -> str:
        return f"{user_prefix(self._namespace, openid)}{kind}:{key}"

    async def claim(self, openid: str, key: str) -> bool:
        """True for the one try that must run the turn of ``key`` (from ``openid``)."""
        won = await self._store.set_if_absent(
            self._key(openid, "claim", key), "1", self._ttl_s
        )
        if won:
            future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._local[key] = future
            # The future outlives the turn only as long as a retry may come.
            asyncio.get_running_loop().call_later(
                self._ttl_s, self._local.pop, key, None
            )
        return won

    async def decide(self, openid: str, key: str, decision: str) -> str:
        """Proposes ``decision``; returns the one that won (maybe another try's)."""
        stored = self._key(openid, "decision", key)
        if await self._store.set_if_absent(stored, decision, self._ttl_s):
            winner = decision
        else:
            winner = await self._store.get(stored) or decision
        future = self._local.get(key)
        if future is not None and not future.done():
            future.set_result(winner)
        return winner

    async def restore(self, openid: str, key: str, decision: str) -> None:
        """Writes back the claim and ``decision`` of ``key`` after an erasure.

        The message that asked for the erasure keeps its exactly-once guarantee
        against WeChat's retries; both keys expire with the other de-dup keys.
        """
        await self._store.set(self._key(openid, "claim", key), "1", self._ttl_s)
        await self._store.set(self._key(openid, "decision", key), decision, self._ttl_s)

    async def wait(self, openid: str, key: str, timeout_s: float) -> str | None:
        """Waits up to ``timeout_s`` for the decision; None when there is none yet."""
        future = self._local.get(key)
        if future is not None:
            if future.done():
                return future.result()
            done, _ = await asyncio.wait({future}, timeout=max(0.0, timeout_s))
            return future.result() if done else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            decision = await self._store.get(self._key(openid, "decision", key))
            if decision is not None or loop.time() >= deadline:
                return decision
            await asyncio.sleep(min(POLL_S, max(0.0, deadline - loop.time())))
