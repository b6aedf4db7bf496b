"""Turns in progress, so that a replica can finish those of a replica that died.

A try that WeChat got an answer for is not retried: ``success`` once the turn
went past the reply deadline (its replies follow through the API), or the
passive XML of the first reply (the others follow). If the replica running that
turn dies then, no retry comes to take the turn over (``wechat.dedup``), and the
customer would wait for ever. So every claimed turn is registered here with the
message's fields until it is over, and every replica sweeps the register
(``channels.turns``): a turn whose lease has lapsed is claimed and finished.

Key layout (under the store's prefix)::

    <app_id>:inflight               set of "<openid> <key>" of running turns
    <app_id>:u:<openid>:turn:<key>  the message's fields (JSON), until it is over

The fields lie under the sender's prefix, so an erasure removes them; the
register's member then finds nothing and is dropped by the next sweep.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wechat.erasure import user_prefix
from wechat.storage import KeyValueStore

# Between openid and key in a register member (neither contains a space).
_SEPARATOR = " "


@dataclass(frozen=True)
class Registered:
    """A registered turn: its message, and seconds since it was registered."""

    fields: dict[str, str]
    age_s: float


class InFlight:
    """The register of running turns in a ``KeyValueStore``.

    Args:
        store: memory or Redis, shared by the replicas.
        namespace: the AppID, put before every key.
        ttl_s: the de-dup TTL (the message is kept half of it).
        clock: wall-clock seconds, shared by the replicas (tests).
    """

    def __init__(
        self,
        store: KeyValueStore,
        namespace: str,
        ttl_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._clock = clock
        self._namespace = namespace
        self._ttl_s = ttl_s
        self._register = f"{namespace}:inflight"

    def _fields_key(self, openid: str, key: str) -> str:
        return f"{user_prefix(self._namespace, openid)}turn:{key}"

    async def add(self, openid: str, key: str, fields: Mapping[str, str]) -> None:
        """Registers the turn of ``key`` from ``openid`` with its message.

        The message is kept half the de-dup TTL: long past any turn, and gone
        well before the turn's finished claim, so a retry that registers a
        finished turn again never makes it look abandoned later.
        """
        entry = {"fields": dict(fields), "registered_at": self._clock()}
        await self._store.set(
            self._fields_key(openid, key),
            json.dumps(entry, ensure_ascii=False),
            self._ttl_s / 2,
        )
        await self._store.add_member(self._register, _SEPARATOR.join((openid, key)))

    async def remove(self, openid: str, key: str) -> None:
        """The turn is over: forgets it."""
        await self._store.remove_member(self._register, _SEPARATOR.join((openid, key)))
        await self._store.delete(self._fields_key(openid, key))

    async def turns(self) -> list[tuple[str, str]]:
        """The registered turns, as ``(openid, key)``."""
        found = []
        for member in await self._store.members(self._register):
            openid, _, key = member.partition(_SEPARATOR)
            if openid and key:
                found.append((openid, key))
        return sorted(found)

    async def earlier(self, openid: str, key: str) -> list[str]:
        """The registered turns of ``openid`` sent before the turn of ``key``.

        Sent before: an earlier ``CreateTime``, or the same second and a lower
        ``MsgId`` (WeChat's ids grow); oldest first.
        """
        mine = await self.fields(openid, key)
        if mine is None:
            return []
        found = []
        for other_openid, other in await self.turns():
            if other_openid != openid or other == key:
                continue
            theirs = await self.fields(openid, other)
            if theirs is not None and _sent_at(theirs) < _sent_at(mine):
                found.append((_sent_at(theirs), other))
        return [other for _, other in sorted(found)]

    async def fields(self, openid: str, key: str) -> dict[str, str] | None:
        """The message of a registered turn; None when it is gone (erased)."""
        entry = await self.entry(openid, key)
        return None if entry is None else entry.fields

    async def entry(self, openid: str, key: str) -> Registered | None:
        """A registered turn's message and age; None when it is gone (erased)."""
        stored = await self._store.get(self._fields_key(openid, key))
        if stored is None:
            return None
        loaded = json.loads(stored)
        return Registered(
            fields={str(k): str(v) for k, v in loaded["fields"].items()},
            age_s=self._clock() - float(loaded["registered_at"]),
        )


def _sent_at(fields: Mapping[str, str]) -> tuple[int, int]:
    """When the follower sent a message: (CreateTime, MsgId); 0 when absent."""

    def number(name: str) -> int:
        value = fields.get(name, "")
        return int(value) if value.isdigit() else 0

    return number("CreateTime"), number("MsgId") or number("MsgID")
