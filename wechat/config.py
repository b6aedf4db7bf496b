"""Settings of the WeChat channel: every default in one place, parsed once.

``WeChatSettings.from_credentials`` reads the channel's section of ``credentials.yml``
(``channels.wechat.WeChatInput:``) and says what to change when something is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from wechat.crypto import decode_aes_key
from wechat.errors import ConfigError

# WeChat waits 5 s for an answer, then retries (three tries in all). We answer
# before that, leaving room for the network.
DEFAULT_REPLY_DEADLINE_S = 4.5
# A signed request older (or newer) than this is treated as a replay.
DEFAULT_TIMESTAMP_WINDOW_S = 300.0
# "memory" keeps de-dup keys, tokens and menus in this process; "redis://host/db"
# shares them between replicas.
DEFAULT_STORE = "memory"
# How long a MsgId is remembered: WeChat's three tries span about 15 s.
DEFAULT_DEDUP_TTL_S = 600
# WeChat's messages are a few hundred bytes; anything this large is hostile.
DEFAULT_MAX_BODY_BYTES = 64 * 1024
# WeChat's API server; tests and the simulator point this at 127.0.0.1.
DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
# Per-call timeout of the customer-service API.
DEFAULT_API_TIMEOUT_S = 10.0
# How long the numbers of a quick-reply menu keep their meaning.
DEFAULT_MENU_TTL_S = 3600
# Pause between a passive answer and the follow-up customer-service messages, so
# the follow-ups do not overtake it on the user's screen.
DEFAULT_FOLLOWUP_DELAY_S = 0.5
# Custom-menu CLICK keys (set in WeChat's console) and the message each sends.
DEFAULT_MENU: dict[str, str] = {
    "MENU_PROMOTION": "/ask_promotion",
    "MENU_RECOMMEND": "/request_recommendation",
    "MENU_STORE": "/ask_store",
    "MENU_CAMPAIGN": "/join_campaign",
    "MENU_SHIPPING": "/ask_shipping",
    "MENU_RETURN": "/ask_return",
    "MENU_HUMAN": "/request_human",
}

_REQUIRED = ("token", "app_id", "app_secret")
# How error messages name the place to fix.
_SECTION = "credentials.yml, channels.wechat.WeChatInput"


@dataclass(frozen=True)
class WeChatSettings:
    """Credentials and tunables of one official account.

    Attributes:
        token: the token set in WeChat's console (服务器配置 → Token).
        app_id: the AppID (wx...).
        app_secret: the AppSecret, for the customer-service API's access token.
        encoding_aes_key: the EncodingAESKey; ``None`` accepts plain mode only.
        account: the account's original id (gh_...), used as ``FromUserName``.
        reply_deadline_s: time to answer WeChat passively before switching to the
            customer-service API.
        timestamp_window_s: accepted age of a signed request.
        store: ``"memory"`` or a ``redis://`` URL for de-dup keys, tokens, menus.
        dedup_ttl_s: how long a MsgId is remembered.
        max_body_bytes: largest accepted request body.
        menu: CLICK ``EventKey`` to message text (``/intent``).
        api_base_url: base URL of WeChat's API server.
        api_timeout_s: timeout of one API call.
        menu_ttl_s: lifetime of a numbered quick-reply menu.
        followup_delay_s: pause before the API messages that follow a passive answer.
    """

    token: str
    app_id: str
    app_secret: str
    encoding_aes_key: str | None = None
    account: str = ""
    reply_deadline_s: float = DEFAULT_REPLY_DEADLINE_S
    timestamp_window_s: float = DEFAULT_TIMESTAMP_WINDOW_S
    store: str = DEFAULT_STORE
    dedup_ttl_s: int = DEFAULT_DEDUP_TTL_S
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    menu: MappingProxyType[str, str] = field(
        default_factory=lambda: MappingProxyType(dict(DEFAULT_MENU))
    )
    api_base_url: str = DEFAULT_API_BASE_URL
    api_timeout_s: float = DEFAULT_API_TIMEOUT_S
    menu_ttl_s: int = DEFAULT_MENU_TTL_S
    followup_delay_s: float = DEFAULT_FOLLOWUP_DELAY_S

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatSettings:
        """Builds settings from the WeChat section of ``credentials.yml``.

        Raises:
            ConfigError: a required key is missing or a value is out of range.
        """
        values = dict(credentials or {})
        missing = [key for key in _REQUIRED if not values.get(key)]
        if missing:
            raise ConfigError(
                f"{_SECTION}: needs {', '.join(missing)} (WeChat console → 基本配置)"
            )
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"{_SECTION}: unknown keys {unknown}; known: {sorted(known)}"
            )
        menu = {
            **DEFAULT_MENU,
            **{str(k): str(v) for k, v in (values.pop("menu", None) or {}).items()},
        }
        try:
            settings = cls(
                token=str(values["token"]),
                app_id=str(values["app_id"]),
                app_secret=str(values["app_secret"]),
                encoding_aes_key=_optional(values.get("encoding_aes_key")),
                account=str(values.get("account") or ""),
                reply_deadline_s=float(
                    values.get("reply_deadline_s", DEFAULT_REPLY_DEADLINE_S)
                ),
                timestamp_window_s=float(
                    values.get("timestamp_window_s", DEFAULT_TIMESTAMP_WINDOW_S)
                ),
                store=str(values.get("store") or DEFAULT_STORE),
                dedup_ttl_s=int(values.get("dedup_ttl_s", DEFAULT_DEDUP_TTL_S)),
                max_body_bytes=int(
                    values.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)
                ),
                menu=MappingProxyType(menu),
                api_base_url=str(
                    values.get("api_base_url") or DEFAULT_API_BASE_URL
                ).rstrip("/"),
                api_timeout_s=float(values.get("api_timeout_s", DEFAULT_API_TIMEOUT_S)),
                menu_ttl_s=int(values.get("menu_ttl_s", DEFAULT_MENU_TTL_S)),
                followup_delay_s=float(
                    values.get("followup_delay_s", DEFAULT_FOLLOWUP_DELAY_S)
                ),
            )
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{_SECTION}: {e}") from e
        settings.validate()
        return settings

    def validate(self) -> None:
        """Checks ranges and the AES key.

        Raises:
            ConfigError: what to change.
        """
        if not 0 < self.reply_deadline_s < 5 or not math.isfinite(
            self.reply_deadline_s
        ):
            raise ConfigError(
                "reply_deadline_s must be between 0 and 5 (WeChat waits 5 s)"
            )
        if not 0 <= self.followup_delay_s <= 5:
            raise ConfigError("followup_delay_s must be between 0 and 5")
        if self.timestamp_window_s <= 0:
            raise ConfigError("timestamp_window_s must be positive")
        if self.max_body_bytes < 1024:
            raise ConfigError("max_body_bytes must be at least 1024")
        if self.dedup_ttl_s < 30:
            raise ConfigError("dedup_ttl_s must cover WeChat's retries (at least 30 s)")
        if not (
            self.store == "memory" or self.store.startswith(("redis://", "rediss://"))
        ):
            raise ConfigError("store must be 'memory' or a redis:// URL")
        if self.encoding_aes_key is not None:
            decode_aes_key(self.encoding_aes_key)


def _optional(value: Any) -> str | None:
    return str(value) if value else None
