"""Erasing an openid's channel keys, in memory and on the real Redis server."""

from __future__ import annotations

import pytest

from wechat.dedup import API, Deduplicator, passive
from wechat.erasure import erase_openid, user_prefix
from wechat.menus import MenuMemory
from wechat.storage import KeyValueStore, MemoryStore

NAMESPACE = "wx1"


async def remember_a_conversation(store: KeyValueStore, openid: str) -> None:
    dedup = Deduplicator(store, 60, NAMESPACE)
    for n in range(3):
        key = f"msg:{openid}{n}"
        assert await dedup.claim(openid, key)
        await dedup.decide(openid, key, passive(f"<xml>{openid}</xml>") if n else API)
    await MenuMemory(store, 60, NAMESPACE).remember(openid, {"1": "/affirm"})


async def test_erases_every_key_of_the_openid_and_nothing_else(
    store: KeyValueStore,
) -> None:
    for openid in ("o_leaver", "o_stayer", "o_leaver2"):
        await remember_a_conversation(store, openid)
    await store.set("wx1:access_token", "TOKEN")

    assert await erase_openid(store, NAMESPACE, "o_leaver") == 7

    dedup = Deduplicator(store, 60, NAMESPACE)
    menus = MenuMemory(store, 60, NAMESPACE)
    # The same message would run a new turn: nothing of the openid is left.
    assert await dedup.claim("o_leaver", "msg:o_leaver1")
    assert await menus.resolve("o_leaver", "1") == ("1", False)
    # Another user whose openid starts alike, and account keys, are untouched.
    assert await menus.resolve("o_leaver2", "1") == ("/affirm", True)
    assert await dedup.wait("o_stayer", "msg:o_stayer1", 0) == passive(
        "<xml>o_stayer</xml>"
    )
    assert await store.get("wx1:access_token") == "TOKEN"
    assert await erase_openid(store, NAMESPACE, "o_stayer") == 7


async def test_glob_characters_in_an_openid_match_literally(
    store: KeyValueStore,
) -> None:
    await remember_a_conversation(store, "o_a")
    assert await erase_openid(store, NAMESPACE, "o_*") == 0
    assert await erase_openid(store, NAMESPACE, "o_?") == 0
    assert await erase_openid(store, NAMESPACE, "o_[a]") == 0
    assert await store.get(user_prefix(NAMESPACE, "o_a") + "menu") is not None


async def test_an_empty_openid_is_refused() -> None:
    with pytest.raises(ValueError):
        await erase_openid(MemoryStore(), NAMESPACE, "")
