"""The WeChat API stand-in, profiles and a segment for the send commands' tests.

Profiles and segments are their own modules (marketing.profiles.build_profiles,
marketing.segments); these tests put small stand-ins in their place so that they
check the commands alone.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

import marketing.profiles
from marketing.profiles import Profile
from marketing.store import MarketingStore
from tests.wechat.fakes import APP_ID, APP_SECRET
from tools.wechat_sim.fake_api import FakeWeChatApi, FakeWeChatApiThread

# Followers whose openid starts with this are in the segment "vip".
VIP = "vip"


@dataclass
class Followers:
    """Who exists, for the stand-in build_profiles: active ones and dormant ones."""

    active: list[str]
    dormant: list[str]

    def build(self, store: MarketingStore, now: datetime) -> list[Profile]:
        recent, old = now - timedelta(hours=1), now - timedelta(days=5)
        return [Profile(u, last_active_at=recent) for u in self.active] + [
            Profile(u, last_active_at=old) for u in self.dormant
        ]


def _members(profiles: Sequence[Profile], segment: str, now: datetime) -> list[Profile]:
    return [p for p in profiles if p.user_id.startswith(segment)]


@pytest.fixture
def followers(monkeypatch: pytest.MonkeyPatch) -> Followers:
    """The followers build_profiles finds (fill the lists), and a "vip" segment."""
    known = Followers(active=[], dormant=[])
    monkeypatch.setattr(
        marketing.profiles, "build_profiles", known.build, raising=False
    )
    segments = types.ModuleType("marketing.segments")
    segments.load_segments = lambda path: {VIP: VIP}  # type: ignore[attr-defined]
    segments.members = _members  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "marketing.segments", segments)
    return known


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
