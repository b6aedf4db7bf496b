"""The plain-mode replay cache: one body per signed (timestamp, nonce)."""

from __future__ import annotations

import hashlib

import pytest

from wechat.errors import ReplayedRequest
from wechat.replay import ReplayCache
from wechat.storage import KeyValueStore, MemoryStore

NOW = 1_700_000_000.0


def cache(store: KeyValueStore) -> ReplayCache:
    return ReplayCache(store, window_s=300, namespace="wx1", clock=lambda: NOW)


async def test_wechats_retry_with_the_same_body_passes(store: KeyValueStore) -> None:
    replays = cache(store)
    await replays.check(str(int(NOW)), "n1", b"<xml>a</xml>")
    await replays.check(str(int(NOW)), "n1", b"<xml>a</xml>")
    key = f"wx1:replay:{int(NOW)}:n1"
    assert await store.get(key) == hashlib.sha256(b"<xml>a</xml>").hexdigest()


async def test_another_body_under_a_used_timestamp_and_nonce_is_rejected(
    store: KeyValueStore,
) -> None:
    replays = cache(store)
    await replays.check(str(int(NOW)), "n1", b"<xml>a</xml>")
    with pytest.raises(ReplayedRequest) as error:
        await replays.check(str(int(NOW)), "n1", b"<xml>forged</xml>")
    assert error.value.status == 403
    # Other pairs are unaffected.
    await replays.check(str(int(NOW)), "n2", b"<xml>forged</xml>")
    await replays.check(str(int(NOW) + 1), "n1", b"<xml>forged</xml>")


async def test_a_pair_is_remembered_while_its_timestamp_is_valid() -> None:
    now = [NOW]
    store = MemoryStore(clock=lambda: now[0])
    replays = ReplayCache(store, window_s=300, namespace="wx1", clock=lambda: now[0])
    stamp = str(int(NOW) - 100)  # valid for 200 s more
    await replays.check(stamp, "n", b"a")
    now[0] += 200
    with pytest.raises(ReplayedRequest):
        await replays.check(stamp, "n", b"b")
    now[0] += 2  # the timestamp is now outside the window: forgotten
    await replays.check(stamp, "n", b"b")
