"""Configuration of the marketing side of the action server, defaults in one place.

rasa-sdk reads no custom keys from ``endpoints.yml``, so the action server reads
its own settings: first the optional ``marketing:`` section of ``endpoints.yml``
(Rasa ignores keys it does not know), then ``AURORA_*`` environment variables,
which win. Every default lives in :class:`Settings`.

Phone numbers are encrypted at rest with ``data_key``. Without one, the
``development`` profile generates a key and keeps it in ``data_key_file`` (with a
warning); the ``production`` profile refuses to start (a :class:`SettingsError`
naming ``AURORA_DATA_KEY``): no lead is ever stored in clear.

| setting | environment variable | default |
| --- | --- | --- |
| ``database_url`` | ``AURORA_DATABASE_URL`` | SQLite file ``.runtime/marketing.db`` |
| ``generator`` | ``AURORA_GENERATOR`` | ``template`` / ``transformers`` / ``openai`` |
| ``generator_timeout_s`` | ``AURORA_GENERATOR_TIMEOUT_S`` | ``120`` s (``openai``) |
| ``model_dir`` | ``AURORA_GENERATOR_MODEL_DIR`` | ``DEFAULT_COPY_MODEL`` (1.5B) |
| ``device`` | ``AURORA_GENERATOR_DEVICE`` | ``auto`` (CUDA when present) |
| ``openai_base_url`` | ``AURORA_OPENAI_BASE_URL`` | ``http://127.0.0.1:8000/v1`` |
| ``openai_model`` | ``AURORA_OPENAI_MODEL`` | ``qwen2.5-7b-instruct`` |
| ``openai_api_key`` | ``AURORA_OPENAI_API_KEY`` | unset |
| ``max_new_tokens`` | ``AURORA_GENERATOR_MAX_NEW_TOKENS`` | ``120`` |
| ``tracking_base_url`` | ``AURORA_TRACKING_BASE_URL`` | unset: links carry ``?trk=`` |
| ``tracking_token`` | ``AURORA_TRACKING_TOKEN`` | unset: order callback off |
| ``cf_min_interactions`` | ``AURORA_CF_MIN_INTERACTIONS`` | ``50`` |
| ``profile`` | ``AURORA_PROFILE`` | ``development`` / ``production`` |
| ``data_key`` | ``AURORA_DATA_KEY`` | unset (development: ``data_key_file``) |
| ``data_key_file`` | ``AURORA_DATA_KEY_FILE`` | ``.runtime/data.key`` |
| ``outbox_path`` | ``AURORA_OUTBOX_PATH`` | ``.runtime/marketing_outbox.db`` |
| ``retention_days`` | ``AURORA_RETENTION_DAYS`` | ``365`` (marketing events kept) |
| ``database_timeout_s`` | ``AURORA_DATABASE_TIMEOUT_S`` | ``3.0`` (then as if down) |
| ``segments_path`` | ``AURORA_SEGMENTS_PATH`` | ``data/segments.yml`` |
| ``campaigns_path`` | ``AURORA_CAMPAIGNS_PATH`` | ``data/campaigns.yml`` |
| ``currency`` | ``AURORA_CURRENCY`` | ``CNY`` (orders without one) |
| ``attribution_window_hours`` | ``AURORA_ATTRIBUTION_WINDOW_HOURS`` | ``168`` |
| ``send_rate_per_s`` | ``AURORA_SEND_RATE_PER_S`` | ``20`` (API calls per second) |
| ``admin_token`` | ``AURORA_ADMIN_TOKEN`` | unset: the admin server refuses to start |
| ``sales_webhook_url`` | ``AURORA_SALES_WEBHOOK_URL`` | unset: no lead notifications |
| ``sales_webhook_min_score`` | ``AURORA_SALES_WEBHOOK_MIN_SCORE`` | ``0.6`` |
| ``sales_webhook_secret`` | ``AURORA_SALES_WEBHOOK_SECRET`` | unset (URL needs it) |
| ``coupon_valid_days`` | ``AURORA_COUPON_VALID_DAYS`` | ``30`` |
| ``alert_webhook_url`` | ``AURORA_ALERT_WEBHOOK_URL`` | unset: alerts are logged only |
| ``timezone`` | ``AURORA_TIMEZONE`` | ``Asia/Shanghai`` (times marketers type) |
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from privacy.cipher import CipherError, DataCipher, check_key, load_or_create_key

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENDPOINTS = ROOT / "endpoints.yml"
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / '.runtime' / 'marketing.db'}"
DEFAULT_OUTBOX_PATH = str(ROOT / ".runtime" / "marketing_outbox.db")
DEFAULT_DATA_KEY_FILE = str(ROOT / ".runtime" / "data.key")
DEFAULT_SEGMENTS_PATH = str(ROOT / "data" / "segments.yml")
DEFAULT_CAMPAIGNS_PATH = str(ROOT / "data" / "campaigns.yml")
DEFAULT_COPY_MODEL = str(ROOT / ".assets" / "qwen2.5-coder-1.5b-instruct-hf")
GENERATOR_BACKENDS = ("template", "transformers", "openai")
DEVELOPMENT, PRODUCTION = "development", "production"
PROFILES = (DEVELOPMENT, PRODUCTION)
ENV_PREFIX = "AURORA_"
# The YAML section of endpoints.yml read by the action server.
ENDPOINTS_SECTION = "marketing"


class SettingsError(ValueError):
    """A setting has a value the action server cannot use; says which and why."""


@dataclass(frozen=True)
class Settings:
    """Every knob of the marketing actions, with its production default."""

    # SQLAlchemy URL of the marketing store (interactions, leads, opt-outs, sign-ups).
    database_url: str = DEFAULT_DATABASE_URL
    # Backend that drafts campaign copy (`aurora-marketing copy`): one of
    # GENERATOR_BACKENDS. Chat never waits on it: it shows approved copy.
    generator: str = "template"
    # Longest wait for one draft from the `openai` backend's server.
    generator_timeout_s: float = 120.0
    # Local causal LM for `transformers`: a save_pretrained folder or a .gguf
    # file; `make assets-llm` builds the default (Qwen2.5-Coder-1.5B-Instruct).
    model_dir: str = DEFAULT_COPY_MODEL
    # "auto" (CUDA when present), "cpu" or "cuda".
    device: str = "auto"
    # OpenAI-compatible chat endpoint (vLLM, Ollama, a hosted model).
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = "qwen2.5-7b-instruct"
    openai_api_key: str | None = None
    # Length of one generated copy in tokens.
    max_new_tokens: int = 120
    # Base of tracked links (`{base}/t/{tracking_id}`); None: product URL + ?trk=.
    tracking_base_url: str | None = None
    # Bearer token the shop's order callback must send to the click server.
    tracking_token: str | None = None
    # Interactions logged before the collaborative signal joins the ranking.
    cf_min_interactions: int = 50
    # development or production: production refuses development shortcuts.
    profile: str = DEVELOPMENT
    # Key that encrypts phone numbers at rest (32 bytes, urlsafe base64).
    data_key: str | None = None
    # Where development keeps a generated key when data_key is unset.
    data_key_file: str = DEFAULT_DATA_KEY_FILE
    # Durable queue of leads, opt-outs and deletions while the database is down.
    outbox_path: str = DEFAULT_OUTBOX_PATH
    # Marketing events (interactions) older than this are purged.
    retention_days: int = 365
    # Longest wait for one marketing-store call in a turn; a hung database then
    # counts as down (reads fall back, writes go to the outbox).
    database_timeout_s: float = 3.0
    # Segments designers declare (marketing.segments).
    segments_path: str = DEFAULT_SEGMENTS_PATH
    # Campaigns marketers push to segments (marketing.campaigns).
    campaigns_path: str = DEFAULT_CAMPAIGNS_PATH
    # Currency of orders that name none (ISO 4217).
    currency: str = "CNY"
    # A purchase counts for the last tracked click at most this long before it.
    attribution_window_hours: float = 168.0
    # WeChat API calls per second while sending a campaign.
    send_rate_per_s: float = 20.0
    # Bearer token of the admin server (dashboard and admin API).
    admin_token: str | None = None
    # Where sales hear of a lead at or above sales_webhook_min_score.
    sales_webhook_url: str | None = None
    sales_webhook_min_score: float = 0.6
    # Key of the HMAC-SHA256 signature of every post to sales_webhook_url.
    sales_webhook_secret: str | None = None
    # How long an issued coupon can be redeemed.
    coupon_valid_days: int = 30
    # Where alerts (a spike of negative messages) are posted besides the log.
    alert_webhook_url: str | None = None
    # The IANA zone of times marketers type without an offset (send --at).
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        self._check_privacy()
        if self.generator not in GENERATOR_BACKENDS:
            raise SettingsError(
                f"generator {self.generator!r} is unknown; use one of "
                f"{GENERATOR_BACKENDS} (AURORA_GENERATOR or marketing.generator)"
            )
        if self.generator_timeout_s <= 0:
            raise SettingsError("generator_timeout_s must be positive")
        if self.device not in ("auto", "cpu", "cuda"):
            raise SettingsError(f"device {self.device!r}: use auto, cpu or cuda")
        if self.database_timeout_s <= 0:
            raise SettingsError("database_timeout_s must be positive")
        if self.retention_days < 1:
            raise SettingsError("retention_days must be at least 1")
        if self.attribution_window_hours <= 0:
            raise SettingsError("attribution_window_hours must be positive")
        if self.send_rate_per_s <= 0:
            raise SettingsError("send_rate_per_s must be positive")
        if not 0 <= self.sales_webhook_min_score <= 1:
            raise SettingsError("sales_webhook_min_score must be within 0..1")
        if self.sales_webhook_url and not self.sales_webhook_secret:
            raise SettingsError(
                "sales_webhook_url needs sales_webhook_secret "
                "(AURORA_SALES_WEBHOOK_SECRET): sales must be able to tell our "
                "posts from forged ones"
            )
        if self.coupon_valid_days < 1:
            raise SettingsError("coupon_valid_days must be at least 1")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise SettingsError(
                f"timezone {self.timezone!r} is unknown; use an IANA name such as "
                "Asia/Shanghai (AURORA_TIMEZONE)"
            ) from e
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise SettingsError(f"currency {self.currency!r}: use an ISO 4217 code")

    def _check_privacy(self) -> None:
        if self.profile not in PROFILES:
            raise SettingsError(
                f"profile {self.profile!r} is unknown; set AURORA_PROFILE to one of "
                f"{PROFILES}"
            )
        if self.data_key is not None:
            try:
                check_key(self.data_key)
            except CipherError as e:
                raise SettingsError(f"AURORA_DATA_KEY: {e}") from e
        elif self.profile == PRODUCTION:
            raise SettingsError(
                "AURORA_DATA_KEY is not set: the production profile stores no phone "
                "number in clear; set it to a key from "
                "`python -c 'from privacy.cipher import generate_key; "
                "print(generate_key())'`"
            )


def data_cipher(settings: Settings) -> DataCipher:
    """The cipher for personal data at rest that ``settings`` call for.

    The configured key; without one (development only, :class:`Settings` refuses
    it in production) the key kept in ``data_key_file``, with a warning.

    Raises:
        SettingsError: The development key file cannot be used.
    """
    if settings.data_key is not None:
        return DataCipher(settings.data_key)
    try:
        return DataCipher(load_or_create_key(Path(settings.data_key_file)))
    except CipherError as e:
        raise SettingsError(f"AURORA_DATA_KEY_FILE: {e}") from e


def _coerce(field: dataclasses.Field[Any], raw: object) -> Any:
    kind = str(field.type)
    text = str(raw).strip()
    try:
        if kind == "float":
            return float(text)
        if kind == "int":
            return int(text)
    except ValueError as e:
        raise SettingsError(f"{field.name}: {raw!r} is not a number") from e
    if kind == "str | None":
        return text or None
    return text


def _endpoints_section(path: Path) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as e:
        logger.warning("Cannot read %s (%s); using defaults.", path, e)
        return {}
    section = document.get(ENDPOINTS_SECTION) if isinstance(document, dict) else None
    return section if isinstance(section, dict) else {}


def load_settings(
    environ: Mapping[str, str] | None = None,
    endpoints: Path | None = None,
) -> Settings:
    """Reads the settings: defaults, then ``endpoints.yml``, then the environment.

    Args:
        environ: Environment variables (``os.environ`` by default).
        endpoints: The endpoints file (``AURORA_ENDPOINTS`` or ``endpoints.yml``).

    Returns:
        The settings.

    Raises:
        SettingsError: A value is unusable; the message names the setting.
    """
    env = os.environ if environ is None else environ
    path = endpoints or Path(env.get(f"{ENV_PREFIX}ENDPOINTS", DEFAULT_ENDPOINTS))
    section = _endpoints_section(path)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        raw = env.get(f"{ENV_PREFIX}{field.name.upper()}")
        if raw is None and field.name in ("model_dir", "max_new_tokens", "device"):
            # The generator's own knobs read naturally with a GENERATOR_ prefix.
            raw = env.get(f"{ENV_PREFIX}GENERATOR_{field.name.upper()}")
        if raw is None:
            raw = section.get(field.name)
        if raw is not None:
            values[field.name] = _coerce(field, raw)
    return Settings(**values)
