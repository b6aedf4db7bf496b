"""The WeChat API stand-in, followers and a segment for the send commands' tests.

Followers are real activity rows in the test's marketing store, and the "vip"
segment a real segments file (``AURORA_SEGMENTS_PATH``): the commands resolve
recipients through :mod:`marketing.profiles` and :mod:`marketing.segments`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import SupportsIndex

import pytest

from marketing.store import MarketingStore, utc_now
from tests.wechat.fakes import APP_ID, APP_SECRET
from tools.wechat_sim.fake_api import FakeWeChatApi, FakeWeChatApiThread

# Followers whose openid starts with this asked about earbuds: the "vip" segment.
VIP = "vip"
SEGMENTS = """\
segments:
  - name: vip
    categories: [耳机]
"""


class _Seeded(list[str]):
    """Openids that, once added, wrote to the account ``age`` ago."""

    def __init__(self, store: MarketingStore, age: timedelta) -> None:
        super().__init__()
        self._store, self._age = store, age

    def __iadd__(self, openids: Iterable[str]) -> _Seeded:  # type: ignore[override,misc]
        for openid in openids:
            self.append(openid)
        return self

    def append(self, openid: str) -> None:
        super().append(openid)
        row = {
            "event_id": uuid.uuid4().hex,
            "user_id": openid,
            "kind": "message",
            "intent": "ask_price",
            "category": "耳机" if openid.startswith(VIP) else "手机",
            "created_at": utc_now() - self._age,
        }
        with self._store.engine.begin() as connection:
            connection.execute(self._store.table("activity").insert(), [row])

    def insert(self, index: SupportsIndex, openid: str) -> None:
        raise NotImplementedError("append openids")


class Followers:
    """Followers who wrote an hour ago (``active``) or five days ago (``dormant``).

    Append openids to either list and they are in the store.
    """

    def __init__(self, store: MarketingStore) -> None:
        self.active = _Seeded(store, timedelta(hours=1))
        self.dormant = _Seeded(store, timedelta(days=5))


@pytest.fixture
def followers(
    marketing_db: MarketingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Followers:
    """Followers to fill in the test's store, and the "vip" segment declared."""
    segments = tmp_path / "segments.yml"
    segments.write_text(SEGMENTS, encoding="utf-8")
    monkeypatch.setenv("AURORA_SEGMENTS_PATH", str(segments))
    return Followers(marketing_db)


@pytest.fixture
def wechat(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeChatApi]:
    """The API stand-in in its own thread, named by the WECHAT_* variables."""
    server = FakeWeChatApiThread(APP_ID, APP_SECRET)
    monkeypatch.setenv("WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("WECHAT_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WECHAT_API_BASE_URL", server.api.base_url)
    monkeypatch.setenv("WECHAT_STORE", "memory")
    yield server.api
    server.stop()
