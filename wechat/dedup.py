"""Exactly-once turns: one Rasa turn per WeChat message, one outcome for all tries.

WeChat sends a message up to three times. The first try to ``claim`` its key (an
atomic set-if-absent) runs the turn; every try, on any replica, then waits for
the turn's *decision*, also set-if-absent so exactly one wins:

- ``passive:<xml>``: the first reply goes back in the HTTP answer; every try gets
  the same XML (WeChat shows only the answer of the try it still waits for);
- ``api``: the replies go through the customer-service API; every try gets
  ``success``;
- ``empty``: nothing to say; every try gets ``success``.

The claim is a *lease*: it holds the running replica's token for
``lease_s`` and that replica renews it (``hold``) until the turn is over, when
it becomes ``done`` for ``ttl_s``. A replica that dies mid-turn stops renewing;
the lease lapses, and the next try to look at it (a retry polling for the
decision, or WeChat's next retry on any replica) claims it again and runs or
finishes the turn (``channels.turns``).

In this process a waiting try is woken by a future; a try on another replica polls
the store and, when its own deadline comes first, decides ``api`` itself. Claims
and decisions are stored under the sender's prefix (``wechat.erasure``), so a
data-deletion request finds them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from wechat.config import DEFAULT_CLAIM_LEASE_S
from wechat.erasure import user_prefix
from wechat.storage import KeyValueStore

logger = logging.getLogger(__name__)

API = "api"
EMPTY = "empty"
# The claim of a turn that is over (a lease holds its replica's token instead).
DONE = "done"
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
        ttl_s: how long decisions and finished claims are kept.
        namespace: put before every key (the AppID), so accounts never collide.
        lease_s: how long a claim outlives a replica that stops renewing it.
    """

    def __init__(
        self,
        store: KeyValueStore,
        ttl_s: float,
        namespace: str,
        lease_s: float = DEFAULT_CLAIM_LEASE_S,
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._namespace = namespace
        self._lease_s = lease_s
        self._local: dict[str, asyncio.Future[str]] = {}
        # The token of each claim this process holds: one per claim, so two
        # drives of one message here never both count as its holder.
        self._tokens: dict[str, str] = {}

    def _key(self, openid: str, kind: str, key: str) -> str:
        return f"{user_prefix(self._namespace, openid)}{kind}:{key}"

    async def claim(self, openid: str, key: str) -> bool:
        """True for the one try that must run the turn of ``key`` (from ``openid``).

        Also true for a try that finds the lease of an earlier claim lapsed (its
        replica died): that try takes the turn over.
        """
        token = uuid.uuid4().hex
        # Set-if-absent-or-get, not set-if-absent: tried again after a timeout
        # whose SET had landed, it still tells this claim's own token apart.
        current = await self._store.set_if_absent_or_get(
            self._key(openid, "claim", key), token, self._lease_s
        )
        won = current is None or current == token
        if won:
            self._tokens[key] = token
            future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._local[key] = future
            # The future outlives the turn only as long as a retry may come.
            asyncio.get_running_loop().call_later(
                self._ttl_s, self._local.pop, key, None
            )
        return won

    async def abandoned(self, openid: str, key: str) -> bool:
        """Whether the turn of ``key`` was claimed and its lease has lapsed.

        Only meaningful once the message was claimed: an absent claim then means
        that no replica runs the turn and that it is not over.
        """
        return await self._store.get(self._key(openid, "claim", key)) is None

    async def awaited(self, openid: str, key: str) -> bool:
        """Whether a try of ``key`` is waiting for its decision right now."""
        return await self._store.get(self._key(openid, "waiter", key)) is not None

    async def over(self, openid: str, key: str) -> bool:
        """Whether the turn of ``key`` has finished (its claim is ``done``)."""
        return await self._store.get(self._key(openid, "claim", key)) == DONE

    async def mark_done(self, openid: str, key: str) -> None:
        """Marks the turn of ``key`` over (its end went to memory before)."""
        await self._store.set(self._key(openid, "claim", key), DONE, self._ttl_s)

    @asynccontextmanager
    async def hold(self, openid: str, key: str) -> AsyncIterator[None]:
        """Renews the lease of a claimed turn while the block runs, then ends it.

        The claim becomes ``done`` for ``ttl_s`` afterwards, so no later try
        takes the finished turn over.
        """
        claim = self._key(openid, "claim", key)
        token = self._tokens.get(key, "")
        renewing = asyncio.ensure_future(self._renew(claim, token))
        try:
            yield
        finally:
            renewing.cancel()
            self._tokens.pop(key, None)
            # Only while still this turn's: a try that took it over (this
            # process stalled past the lease) finishes it on its own.
            current = await self._store.get(claim)
            if current in (token, None):
                await self._store.set(claim, DONE, self._ttl_s)

    async def _renew(self, claim: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                kept = await self._store.expire_if_equal(claim, token, self._lease_s)
            except Exception:  # the next renewal tries again
                logger.exception("Renewing the lease %s failed.", claim)
                continue
            if kept:
                continue
            # Lapsed (this process stalled past the lease, or the store failed
            # over and lost it): take it back unless another try has it now.
            try:
                current = await self._store.set_if_absent_or_get(
                    claim, token, self._lease_s
                )
            except Exception:
                logger.exception("Renewing the lease %s failed.", claim)
                continue
            if current not in (None, token):
                logger.warning(
                    "The lease %s lapsed while its turn ran and another try "
                    "took the turn over.",
                    claim,
                )
                return

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

    async def decision(self, openid: str, key: str) -> str | None:
        """The decision of ``key`` when there is one."""
        return await self._store.get(self._key(openid, "decision", key))

    async def restore(self, openid: str, key: str, decision: str) -> None:
        """Writes back the claim and ``decision`` of ``key`` after an erasure.

        The message that asked for the erasure keeps its exactly-once guarantee
        against WeChat's retries; both keys expire with the other de-dup keys.
        """
        await self._store.set(self._key(openid, "claim", key), DONE, self._ttl_s)
        await self._store.set(self._key(openid, "decision", key), decision, self._ttl_s)

    async def wait(
        self,
        openid: str,
        key: str,
        timeout_s: float,
        on_takeover: Callable[[], None] | None = None,
    ) -> str | None:
        """Waits up to ``timeout_s`` for the decision; None when there is none yet.

        A try waiting for another replica's turn also watches that turn's lease:
        when it lapses, this try claims the turn and calls ``on_takeover`` (which
        runs it here), then waits for it in this process.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        if key not in self._local and timeout_s > 0:
            # A try waits: it takes the turn over itself, the sweep leaves it be.
            await self._store.set(
                self._key(openid, "waiter", key), "1", max(timeout_s, 0.001)
            )
        while True:
            future = self._local.get(key)
            if future is not None:
                if future.done():
                    return future.result()
                remaining = max(0.0, deadline - loop.time())
                done, _ = await asyncio.wait({future}, timeout=remaining)
                return future.result() if done else None
            decision = await self.decision(openid, key)
            if decision is not None or loop.time() >= deadline:
                return decision
            if (
                on_takeover is not None
                and await self.abandoned(openid, key)
                and await self.claim(openid, key)
            ):
                on_takeover()
                continue
            await asyncio.sleep(min(POLL_S, max(0.0, deadline - loop.time())))
