"""The channel's keys of one openid, and their erasure (删除我的数据).

Everything the channel keeps about a user lives under one prefix of the
``KeyValueStore``, so a data-deletion request finds it all with one
``delete_prefix``:

- ``{namespace}:u:{openid}:claim:{message key}``: a turn's claim (``wechat.dedup``);
- ``{namespace}:u:{openid}:decision:{message key}``: its outcome (passive XML
  holds the reply text);
- ``{namespace}:u:{openid}:menu``: the numbers of the last quick-reply menu
  (``wechat.menus``);
- any other per-user key (a rate limit's counters, for instance) belongs under
  :func:`user_prefix` too.

``namespace`` is the AppID. Account-wide keys (the access token, its lock, the
passive-only switch) stay outside ``:u:`` and hold nothing about a user.
"""

from __future__ import annotations

from wechat.storage import KeyValueStore


def user_prefix(namespace: str, openid: str) -> str:
    """The prefix of every key the channel keeps about ``openid``."""
    return f"{namespace}:u:{openid}:"


async def erase_openid(store: KeyValueStore, namespace: str, openid: str) -> int:
    """Deletes every key of ``openid`` in ``store``; returns how many there were.

    Raises:
        ValueError: ``openid`` is empty (it would name no user).
    """
    if not openid:
        raise ValueError("no openid to erase")
    return await store.delete_prefix(user_prefix(namespace, openid))
