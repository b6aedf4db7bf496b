"""Handing a user over to a human agent (转人工), and keeping the bot quiet meanwhile.

The contract between the dialogue and the channel is one custom payload,
:data:`HANDOFF_PAYLOAD` (``{"wechat": {"transfer_customer_service": true}}``),
sent by ``action_handoff``; the channel's output collector recognises it with
:func:`is_handoff_request`. The channel then answers passively with WeChat's
``transfer_customer_service`` reply (the message goes to the 客服 agents'
workbench) and records a :class:`Handoffs` state for the openid: while it is set,
every message of that user is transferred the same way and no dialogue turn runs.
The agent closing the session (event ``kf_close_session``) ends it; so does
``handoff_timeout_s`` without a message from the user (each message renews it).

The state lives under the user's prefix (``wechat.erasure.user_prefix``), so a
data-deletion request erases it with the rest. No Rasa.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from wechat.erasure import user_prefix
from wechat.storage import KeyValueStore

# The value of a handoff's key (the key's presence is the state).
ACTIVE: Final = "1"
HANDOFF_PAYLOAD: Final[dict[str, Any]] = {"wechat": {"transfer_customer_service": True}}


def is_handoff_request(payload: Mapping[str, Any]) -> bool:
    """Whether a custom payload asks the channel to transfer to a human agent."""
    inner = payload.get("wechat")
    return isinstance(inner, Mapping) and inner.get("transfer_customer_service") is True


class Handoffs:
    """Which users are with a human agent, in the channel's key-value store.

    Args:
        store: The channel's store (memory or Redis, shared by the replicas).
        ttl_s: How long a handoff lasts after the user's latest message.
        namespace: The AppID (keys' namespace).
    """

    def __init__(self, store: KeyValueStore, ttl_s: int, namespace: str) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._namespace = namespace

    def _key(self, openid: str) -> str:
        return f"{user_prefix(self._namespace, openid)}handoff"

    async def start(self, openid: str) -> None:
        """Hands ``openid`` over (or renews the handoff) for ``ttl_s``."""
        await self._store.set(self._key(openid), ACTIVE, self._ttl_s)

    async def active(self, openid: str) -> bool:
        """Whether ``openid`` is with a human agent now."""
        return await self._store.get(self._key(openid)) is not None

    async def end(self, openid: str) -> None:
        """Gives ``openid`` back to the bot."""
        await self._store.delete_if_equal(self._key(openid), ACTIVE)
