"""Settings from credentials.yml: defaults in one place, errors that say what to fix."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_servers import dev_credentials
from tests.wechat.fakes import AES_KEY
from wechat.config import (
    DEFAULT_MENU,
    DEFAULT_REPLY_DEADLINE_S,
    DEFAULT_STORE_TIMEOUT_S,
    SAMPLE_APP_ID,
    SAMPLE_APP_SECRET,
    SAMPLE_ENCODING_AES_KEY,
    SAMPLE_TOKEN,
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
    assert settings.handoff_timeout_s == 1800


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


SAMPLES = {
    "token": SAMPLE_TOKEN,
    "app_id": SAMPLE_APP_ID,
    "app_secret": SAMPLE_APP_SECRET,
    "encoding_aes_key": SAMPLE_ENCODING_AES_KEY,
}
REAL = {
    "token": "prod-token",
    "app_id": "wx1234567890abcdef",
    "app_secret": "prod-secret",
    "encoding_aes_key": AES_KEY,
}


def test_new_defaults() -> None:
    settings = WeChatSettings.from_credentials(BASE)
    assert settings.profile == "development"
    assert settings.require_safe_mode is False
    assert settings.store_timeout_s == DEFAULT_STORE_TIMEOUT_S == 0.5
    assert settings.rate_limit_messages == 12
    assert settings.rate_limit_window_s == 60
    assert settings.domain_path == "domain.yml"


def test_empty_values_from_unset_variables_mean_the_default() -> None:
    # What Rasa's ${VAR} substitution gives for variables set to "".
    keys = [
        "encoding_aes_key",
        "account",
        "profile",
        "require_safe_mode",
        "reply_deadline_s",
        "store",
        "store_timeout_s",
        "rate_limit_messages",
        "rate_limit_window_s",
        "api_base_url",
        "domain_path",
    ]
    settings = WeChatSettings.from_credentials({**BASE, **dict.fromkeys(keys, "")})
    assert settings == WeChatSettings.from_credentials(BASE)


def test_values_from_environment_strings_are_parsed() -> None:
    settings = WeChatSettings.from_credentials(
        {
            **BASE,
            "encoding_aes_key": AES_KEY,
            "require_safe_mode": "True",
            "store_timeout_s": "0.25",
            "rate_limit_messages": "3",
            "rate_limit_window_s": "10",
            "profile": "Production",
            "api_base_url": "https://api.weixin.qq.com",
        }
    )
    assert settings.require_safe_mode is True
    assert settings.store_timeout_s == 0.25
    assert (settings.rate_limit_messages, settings.rate_limit_window_s) == (3, 10.0)
    assert settings.profile == "production"
    off = WeChatSettings.from_credentials({**BASE, "require_safe_mode": "false"})
    assert off.require_safe_mode is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"require_safe_mode": "maybe"}, "require_safe_mode"),
        ({"require_safe_mode": True}, "WECHAT_ENCODING_AES_KEY"),
        ({"store_timeout_s": 0}, "store_timeout_s"),
        ({"store_timeout_s": 3}, "store_timeout_s"),
        ({"rate_limit_messages": -1}, "rate_limit_messages"),
        ({"rate_limit_window_s": 0}, "rate_limit_window_s"),
        ({"handoff_timeout_s": 10}, "handoff_timeout_s"),
        ({"profile": "staging"}, "profile"),
        ({"token": ""}, "WECHAT_TOKEN"),
        ({"app_id": None, "app_secret": " "}, "WECHAT_APP_ID, WECHAT_APP_SECRET"),
    ],
)
def test_new_settings_say_what_to_fix(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        WeChatSettings.from_credentials({**BASE, **change})


def test_the_sample_constants_are_the_documented_ones() -> None:
    assert SAMPLES == {
        "token": "aurora-dev-token",
        "app_id": "wx00aurora0dev000",
        "app_secret": "aurora-dev-secret-not-real",
        "encoding_aes_key": "AuroraDevSampleEncodingAESKey0123456789abcd",
    }


@pytest.mark.parametrize(
    ("key", "variable"), [(k, f"WECHAT_{k.upper()}") for k in SAMPLES]
)
def test_production_refuses_each_sample_and_names_its_variable(
    key: str, variable: str
) -> None:
    values = {**REAL, key: SAMPLES[key], "profile": "production"}
    with pytest.raises(ConfigError, match=variable) as error:
        WeChatSettings.from_credentials(values)
    assert SAMPLES[key] not in str(error.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5099",
        "http://localhost:5099/",
        "http://127.8.0.1",
        "http://[::1]:5099",
        "http://0.0.0.0:5099",
    ],
)
def test_production_refuses_an_api_server_on_loopback(url: str) -> None:
    with pytest.raises(ConfigError, match="api_base_url"):
        WeChatSettings.from_credentials(
            {**REAL, "profile": "production", "api_base_url": url}
        )


def test_production_accepts_real_credentials_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="wechat.config"):
        settings = WeChatSettings.from_credentials({**REAL, "profile": "production"})
    assert settings.api_base_url == "https://api.weixin.qq.com"
    assert caplog.records == []


def test_development_warns_once_about_sample_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="wechat.config"):
        settings = WeChatSettings.from_credentials(
            {**SAMPLES, "api_base_url": "http://127.0.0.1:5099"}
        )
    assert settings.sample_credentials() == list(SAMPLES)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "WECHAT_TOKEN" in record.getMessage()
    assert "production" in record.getMessage()
    # The secrets themselves never reach the log.
    assert SAMPLE_APP_SECRET not in record.getMessage()
