"""Settings of the WeChat channel: every default in one place, parsed once.

``WeChatSettings.from_credentials`` reads the channel's section of ``credentials.yml``
(``channels.wechat.WeChatInput:``) and says what to change when something is wrong.

Values may come from environment variables (``token: ${WECHAT_TOKEN}``; Rasa
substitutes them as strings), so numbers and booleans are parsed from strings and an
empty value means "the default". Two profiles: ``development`` (the default) accepts
the sample credentials below with a warning, for the simulator; ``production``
refuses them, naming the environment variable to set, and refuses an API server on
loopback. Over 300 lines because every default, its parsing and its check stay
together: split, "every default in one place" would no longer hold.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from wechat.crypto import decode_aes_key
from wechat.errors import ConfigError

logger = logging.getLogger(__name__)

# The sample credentials of development with `make wechat-sim` (also in the dev
# environment file the Makefile exports). Never valid for a real account.
SAMPLE_TOKEN = "aurora-dev-token"
SAMPLE_APP_ID = "wx00aurora0dev000"
SAMPLE_APP_SECRET = "aurora-dev-secret-not-real"
SAMPLE_ENCODING_AES_KEY = "AuroraDevSampleEncodingAESKey0123456789abcd"
# Each secret, its sample value and the environment variable that sets it.
SAMPLE_CREDENTIALS: dict[str, tuple[str, str]] = {
    "token": (SAMPLE_TOKEN, "WECHAT_TOKEN"),
    "app_id": (SAMPLE_APP_ID, "WECHAT_APP_ID"),
    "app_secret": (SAMPLE_APP_SECRET, "WECHAT_APP_SECRET"),
    "encoding_aes_key": (SAMPLE_ENCODING_AES_KEY, "WECHAT_ENCODING_AES_KEY"),
}

DEVELOPMENT = "development"
PRODUCTION = "production"
PROFILES = (DEVELOPMENT, PRODUCTION)
DEFAULT_PROFILE = DEVELOPMENT

# WeChat waits 5 s for an answer, then retries (three tries in all). We answer
# before that, leaving room for the network.
DEFAULT_REPLY_DEADLINE_S = 4.5
# A signed request older (or newer) than this is treated as a replay.
DEFAULT_TIMESTAMP_WINDOW_S = 300.0
# "memory" keeps de-dup keys, tokens and menus in this process; "redis://host/db"
# shares them between replicas.
DEFAULT_STORE = "memory"
# Longest wait for one Redis call (connect or answer); then the call is served
# from this process's memory (wechat.storage.FailoverStore).
DEFAULT_STORE_TIMEOUT_S = 0.5
# How long a MsgId is remembered: WeChat's three tries span about 15 s.
DEFAULT_DEDUP_TTL_S = 600
# A replica running a turn holds the message's claim as a lease of this many
# seconds, renewed while the turn runs; when the replica dies, the lease lapses
# and WeChat's next try, on any replica, takes the turn over. Longer than a busy
# process may stall (a lapse runs the turn twice), shorter than WeChat's 10 s
# between its first and last try.
DEFAULT_CLAIM_LEASE_S = 6.0
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
# Messages one user (openid) may send per window; over it the channel answers
# utter_wechat_rate_limited without a turn. 0 turns the limit off.
DEFAULT_RATE_LIMIT_MESSAGES = 12
DEFAULT_RATE_LIMIT_WINDOW_S = 60.0
# Refuse plain (unencrypted) pushes: only AES safe mode signs the body.
DEFAULT_REQUIRE_SAFE_MODE = False
# Where the texts the channel says itself live (utter_wechat_*), relative to the
# directory Rasa runs in.
DEFAULT_DOMAIN_PATH = "domain.yml"
# A turn still running this long after its message arrived gets the apology
# (utter_wechat_apology) through the API; Rasa waits up to 300 s for actions.
DEFAULT_TURN_TIMEOUT_S = 30.0
# After a transfer to a human agent, the bot stays silent this long (unless the
# agent closes the session first), counted from the user's latest message.
DEFAULT_HANDOFF_TIMEOUT_S = 1800
# The durable queue of customer-service messages WeChat refused for now, relative
# to the directory Rasa runs in.
DEFAULT_RETRY_QUEUE_PATH = ".runtime/wechat_retry.db"
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
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
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
        profile: ``development`` or ``production`` (refuses sample credentials).
        require_safe_mode: refuse plain (unencrypted) pushes.
        reply_deadline_s: time to answer WeChat passively before switching to the
            customer-service API.
        timestamp_window_s: accepted age of a signed request.
        store: ``"memory"`` or a ``redis://`` URL for de-dup keys, tokens, menus.
        store_timeout_s: longest wait for Redis before serving from memory.
        dedup_ttl_s: how long a MsgId is remembered.
        claim_lease_s: how long a turn's claim outlives its replica.
        max_body_bytes: largest accepted request body.
        rate_limit_messages: messages per user and window; 0: no limit.
        rate_limit_window_s: the rate limit's window.
        menu: CLICK ``EventKey`` to message text (``/intent``).
        api_base_url: base URL of WeChat's API server.
        api_timeout_s: timeout of one API call.
        menu_ttl_s: lifetime of a numbered quick-reply menu.
        followup_delay_s: pause before the API messages that follow a passive answer.
        domain_path: the domain file holding the channel's own texts.
        turn_timeout_s: when a still-running turn gets the apology.
        retry_queue_path: the durable queue of refused customer-service messages.
        handoff_timeout_s: how long after a user's latest message a transfer to
            a human agent lasts when the agent does not close the session.
    """

    token: str
    app_id: str
    app_secret: str
    encoding_aes_key: str | None = None
    account: str = ""
    profile: str = DEFAULT_PROFILE
    require_safe_mode: bool = DEFAULT_REQUIRE_SAFE_MODE
    reply_deadline_s: float = DEFAULT_REPLY_DEADLINE_S
    timestamp_window_s: float = DEFAULT_TIMESTAMP_WINDOW_S
    store: str = DEFAULT_STORE
    store_timeout_s: float = DEFAULT_STORE_TIMEOUT_S
    dedup_ttl_s: int = DEFAULT_DEDUP_TTL_S
    claim_lease_s: float = DEFAULT_CLAIM_LEASE_S
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rate_limit_messages: int = DEFAULT_RATE_LIMIT_MESSAGES
    rate_limit_window_s: float = DEFAULT_RATE_LIMIT_WINDOW_S
    menu: MappingProxyType[str, str] = field(
        default_factory=lambda: MappingProxyType(dict(DEFAULT_MENU))
    )
    api_base_url: str = DEFAULT_API_BASE_URL
    api_timeout_s: float = DEFAULT_API_TIMEOUT_S
    menu_ttl_s: int = DEFAULT_MENU_TTL_S
    followup_delay_s: float = DEFAULT_FOLLOWUP_DELAY_S
    domain_path: str = DEFAULT_DOMAIN_PATH
    turn_timeout_s: float = DEFAULT_TURN_TIMEOUT_S
    retry_queue_path: str = DEFAULT_RETRY_QUEUE_PATH
    handoff_timeout_s: int = DEFAULT_HANDOFF_TIMEOUT_S

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatSettings:
        """Builds settings from the WeChat section of ``credentials.yml``.

        An empty value (an environment variable set to ``""``) means the default.
        In the development profile, sample credentials log one warning.

        Raises:
            ConfigError: a required key is missing, a value is out of range, or the
                production profile meets a sample credential.
        """
        given = (credentials or {}).items()
        values = {key: value for key, value in given if not _blank(value)}
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"{_SECTION}: unknown keys {unknown}; known: {sorted(known)}"
            )
        missing = [key for key in _REQUIRED if key not in values]
        if missing:
            variables = ", ".join(SAMPLE_CREDENTIALS[key][1] for key in missing)
            raise ConfigError(
                f"{_SECTION}: needs {', '.join(missing)} (set {variables}; "
                "WeChat console → 基本配置)"
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
                account=str(values.get("account", "")),
                profile=str(values.get("profile", DEFAULT_PROFILE)).lower(),
                require_safe_mode=_flag(
                    "require_safe_mode",
                    values.get("require_safe_mode", DEFAULT_REQUIRE_SAFE_MODE),
                ),
                reply_deadline_s=float(
                    values.get("reply_deadline_s", DEFAULT_REPLY_DEADLINE_S)
                ),
                timestamp_window_s=float(
                    values.get("timestamp_window_s", DEFAULT_TIMESTAMP_WINDOW_S)
                ),
                store=str(values.get("store", DEFAULT_STORE)),
                store_timeout_s=float(
                    values.get("store_timeout_s", DEFAULT_STORE_TIMEOUT_S)
                ),
                dedup_ttl_s=int(values.get("dedup_ttl_s", DEFAULT_DEDUP_TTL_S)),
                claim_lease_s=float(values.get("claim_lease_s", DEFAULT_CLAIM_LEASE_S)),
                max_body_bytes=int(
                    values.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)
                ),
                rate_limit_messages=int(
                    values.get("rate_limit_messages", DEFAULT_RATE_LIMIT_MESSAGES)
                ),
                rate_limit_window_s=float(
                    values.get("rate_limit_window_s", DEFAULT_RATE_LIMIT_WINDOW_S)
                ),
                menu=MappingProxyType(menu),
                api_base_url=str(
                    values.get("api_base_url", DEFAULT_API_BASE_URL)
                ).rstrip("/"),
                api_timeout_s=float(values.get("api_timeout_s", DEFAULT_API_TIMEOUT_S)),
                menu_ttl_s=int(values.get("menu_ttl_s", DEFAULT_MENU_TTL_S)),
                followup_delay_s=float(
                    values.get("followup_delay_s", DEFAULT_FOLLOWUP_DELAY_S)
                ),
                domain_path=str(values.get("domain_path", DEFAULT_DOMAIN_PATH)),
                turn_timeout_s=float(
                    values.get("turn_timeout_s", DEFAULT_TURN_TIMEOUT_S)
                ),
                retry_queue_path=str(
                    values.get("retry_queue_path", DEFAULT_RETRY_QUEUE_PATH)
                ),
                handoff_timeout_s=int(
                    values.get("handoff_timeout_s", DEFAULT_HANDOFF_TIMEOUT_S)
                ),
            )
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{_SECTION}: {e}") from e
        settings.validate()
        samples = settings.sample_credentials()
        if samples:
            logger.warning(
                "The WeChat channel runs with the development sample %s: fine with "
                "`make wechat-sim`, useless for a real account. Set %s and "
                "profile: production there.",
                ", ".join(samples),
                ", ".join(SAMPLE_CREDENTIALS[key][1] for key in samples),
            )
        return settings

    def sample_credentials(self) -> list[str]:
        """The keys whose values are the development samples."""
        return [
            key
            for key, (sample, _) in SAMPLE_CREDENTIALS.items()
            if getattr(self, key) == sample
        ]

    def validate(self) -> None:
        """Checks ranges, the AES key and the profile.

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
        if not self.store_timeout_s < self.claim_lease_s <= 30:
            # A renewal, every third of the lease, may take store_timeout_s; a
            # lease longer than WeChat's 5 s between tries delays takeovers.
            raise ConfigError(
                "claim_lease_s must be over store_timeout_s and at most 30"
            )
        if not (
            self.store == "memory" or self.store.startswith(("redis://", "rediss://"))
        ):
            raise ConfigError("store must be 'memory' or a redis:// URL")
        if not 0 < self.store_timeout_s <= 2:
            raise ConfigError(
                "store_timeout_s must be between 0 and 2 (it is spent inside "
                "WeChat's 5 s)"
            )
        if self.rate_limit_messages < 0:
            raise ConfigError("rate_limit_messages must be 0 (no limit) or more")
        if not self.reply_deadline_s < self.turn_timeout_s <= 300:
            raise ConfigError(
                "turn_timeout_s must be over reply_deadline_s and at most 300"
            )
        if not 60 <= self.handoff_timeout_s <= 86400:
            raise ConfigError("handoff_timeout_s must be between 60 and 86400")
        if not 0 < self.rate_limit_window_s <= 86400:
            raise ConfigError("rate_limit_window_s must be between 0 and 86400")
        if self.encoding_aes_key is not None:
            decode_aes_key(self.encoding_aes_key)
        elif self.require_safe_mode:
            raise ConfigError(
                "require_safe_mode needs encoding_aes_key (set "
                "WECHAT_ENCODING_AES_KEY; WeChat console → 服务器配置 → 安全模式)"
            )
        if self.profile not in PROFILES:
            raise ConfigError(f"profile must be one of {list(PROFILES)}")
        if self.profile == PRODUCTION:
            self._check_production()

    def _check_production(self) -> None:
        samples = self.sample_credentials()
        if samples:
            variables = ", ".join(SAMPLE_CREDENTIALS[key][1] for key in samples)
            raise ConfigError(
                f"profile production: {', '.join(samples)} still the development "
                f"sample; set {variables} to your account's values (WeChat console "
                "→ 基本配置 / 服务器配置)"
            )
        if _is_loopback(self.api_base_url):
            raise ConfigError(
                f"profile production: api_base_url {self.api_base_url} is on this "
                f"machine (the simulator); remove it to use {DEFAULT_API_BASE_URL}"
            )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _optional(value: Any) -> str | None:
    return str(value) if value else None


def _flag(key: str, value: Any) -> bool:
    """A boolean from YAML (``true``) or an environment variable (``"true"``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{key} must be true or false, not {value!r}")


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
