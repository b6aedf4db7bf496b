"""Numbered quick-reply menus: the numbers of the bot's last menu, per user.

WeChat has no buttons in chat, so buttons are shown as ``1. ...`` lines. The
payloads are remembered for the user's next message only: a ``2`` then becomes the
second button's payload; any later turn replaces (or clears) the menu. The menu
lives under the user's prefix (``wechat.erasure``).
"""

from __future__ import annotations

import json

from wechat.erasure import user_prefix
from wechat.storage import KeyValueStore


class MenuMemory:
    """Per-user menus in a ``KeyValueStore``.

    Args:
        store: memory or Redis.
        ttl_s: how long a menu's numbers keep their meaning.
        namespace: the AppID, so accounts never collide.
    """

    def __init__(self, store: KeyValueStore, ttl_s: float, namespace: str) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._namespace = namespace

    def _key(self, openid: str) -> str:
        return user_prefix(self._namespace, openid) + "menu"

    async def remember(self, openid: str, choices: dict[str, str]) -> None:
        """Stores the numbers of the menu just sent (an empty dict clears it)."""
        await self._store.set(self._key(openid), json.dumps(choices), self._ttl_s)

    async def resolve(self, openid: str, text: str) -> tuple[str, bool]:
        """The payload when ``text`` is a number of the user's menu, else ``text``.

        Returns:
            The text for Rasa and whether a menu number was replaced.
        """
        number = text.strip()
        if not number.isdigit():
            return text, False
        raw = await self._store.get(self._key(openid))
        if not raw:
            return text, False
        try:
            choices = json.loads(raw)
        except ValueError:
            return text, False
        payload = choices.get(number) if isinstance(choices, dict) else None
        return (str(payload), True) if payload else (text, False)
