"""Test credentials and the local WeChat API stand-in as a fixture.

A pytest plugin of ``tests/conftest.py``, shared by the protocol and channel tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tools.wechat_sim.fake_api import FakeWeChatApi

TOKEN = "test-token"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "test-secret"
# A valid EncodingAESKey (43 base64 characters), not WeChat's sample.
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
ACCOUNT = "gh_aurora_test"


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeWeChatApi]:
    api = await FakeWeChatApi(APP_ID, APP_SECRET).start()
    yield api
    await api.stop()
