"""Settings from credentials.yml: defaults in one place, errors that say what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e_servers import dev_credentials
from wechat.config import (
    DEFAULT_MENU,
    DEFAULT_REPLY_DEADLINE_S,
    WeChatSettings,
)
from wechat.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
BASE = {"token": "t", "app_id": "wx1", "app_secret": "s"}


def test_defaults() -> None:
    settings = WeChatSettings.from_credentials(BASE)
    assert settings.reply_deadline_s == DEFAULT_REPLY_DEADLINE_S == 4.5
    assert settings.timestamp_window_s == 300
    assert settings.store == "memory"
    assert settings.encoding_aes_key is None
    assert settings.api_base_url == "https://api.weixin.qq.com"
    assert dict(settings.menu) == DEFAULT_MENU
    assert settings.menu["MENU_PROMOTION"] == "/ask_promotion"


def test_overrides_and_menu_merge() -> None:
    settings = WeChatSettings.from_credentials(
        {
            **BASE,
            "reply_deadline_s": "3",
            "store": "redis://127.0.0.1:6379/2",
            "menu": {"MENU_NEW": "/greet"},
            "api_base_url": "http://127.0.0.1:9/",
        }
    )
    assert settings.reply_deadline_s == 3.0
    assert settings.menu["MENU_NEW"] == "/greet"
    assert settings.menu["MENU_PROMOTION"] == "/ask_promotion"
    assert settings.api_base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"token": ""}, "token"),
        ({"app_secret": None}, "app_secret"),
        ({"tokn": "x"}, "unknown keys"),
        ({"reply_deadline_s": 5}, "reply_deadline_s"),
        ({"reply_deadline_s": "soon"}, "soon"),
        ({"store": "mysql://x"}, "store"),
        ({"encoding_aes_key": "short"}, "43"),
        ({"max_body_bytes": 10}, "max_body_bytes"),
        ({"dedup_ttl_s": 1}, "dedup_ttl_s"),
    ],
)
def test_errors_say_what_to_fix(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        WeChatSettings.from_credentials({**BASE, **change})


def test_the_sample_credentials_file_loads() -> None:
    # ${NAME} values replaced from dev.env, as `make run` does.
    settings = WeChatSettings.from_credentials(
        dev_credentials(ROOT / "credentials.yml")
    )
    assert settings.token == "aurora-dev-token"
    assert settings.encoding_aes_key is not None
