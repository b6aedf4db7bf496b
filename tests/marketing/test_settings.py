from __future__ import annotations

from pathlib import Path

import pytest

from marketing.settings import (
    DEFAULT_COPY_MODEL,
    DEFAULT_DATABASE_URL,
    Settings,
    SettingsError,
    data_cipher,
    load_settings,
)
from privacy.cipher import CipherError, generate_key


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "missing.yml")
    assert settings.generator == "template"
    assert settings.generator_timeout_s == 120.0
    assert settings.model_dir == DEFAULT_COPY_MODEL
    assert settings.database_url == DEFAULT_DATABASE_URL


def test_endpoints_section_then_environment_wins(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n  url: http://x\n"
        "marketing:\n  generator: openai\n  generator_timeout_s: 1.5\n"
        "  openai_model: m1\n",
        encoding="utf-8",
    )
    from_file = load_settings({}, endpoints)
    assert (from_file.generator, from_file.generator_timeout_s) == ("openai", 1.5)
    env = {
        "AURORA_GENERATOR": "transformers",
        "AURORA_GENERATOR_MODEL_DIR": "/models/gpt",
        "AURORA_DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
    }
    settings = load_settings(env, endpoints)
    assert settings.generator == "transformers"
    assert settings.model_dir == "/models/gpt"
    assert settings.openai_model == "m1"
    assert settings.database_url.startswith("postgresql://")


@pytest.mark.parametrize(
    "env",
    [
        {"AURORA_GENERATOR": "gpt5"},
        {"AURORA_GENERATOR_TIMEOUT_S": "soon"},
        {"AURORA_GENERATOR_TIMEOUT_S": "0"},
    ],
)
def test_unusable_values_name_the_setting(env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        load_settings(env, tmp_path / "missing.yml")


def test_the_repository_endpoints_file_is_readable() -> None:
    assert load_settings({}).generator in ("template", "transformers", "openai")


def test_privacy_defaults(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "missing.yml")
    assert settings.profile == "development" and settings.data_key is None
    assert settings.outbox_path.endswith(".runtime/marketing_outbox.db")
    assert settings.data_key_file.endswith(".runtime/data.key")
    assert settings.retention_days == 365


def test_production_without_a_data_key_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="AURORA_DATA_KEY"):
        load_settings({"AURORA_PROFILE": "production"}, tmp_path / "missing.yml")
    key = generate_key()
    env = {"AURORA_PROFILE": "production", "AURORA_DATA_KEY": key}
    assert load_settings(env, tmp_path / "missing.yml").data_key == key


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AURORA_DATA_KEY": "not-a-key"}, "AURORA_DATA_KEY"),
        ({"AURORA_PROFILE": "staging"}, "AURORA_PROFILE"),
        ({"AURORA_RETENTION_DAYS": "0"}, "retention_days"),
    ],
)
def test_unusable_privacy_settings_name_the_setting(
    env: dict[str, str], named: str, tmp_path: Path
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env, tmp_path / "missing.yml")


def test_development_without_a_key_keeps_one_in_the_key_file(tmp_path: Path) -> None:
    env = {"AURORA_DATA_KEY_FILE": str(tmp_path / "data.key")}
    first = data_cipher(load_settings(env, tmp_path / "missing.yml"))
    second = data_cipher(load_settings(env, tmp_path / "missing.yml"))
    assert second.decrypt(first.encrypt("13812345678")) == "13812345678"
    configured = data_cipher(Settings(data_key=generate_key()))
    with pytest.raises(CipherError):
        configured.decrypt(first.encrypt("13812345678"))


def test_an_unknown_timezone_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="AURORA_TIMEZONE"):
        load_settings({"AURORA_TIMEZONE": "Mars/Olympus"}, endpoints=Path("none.yml"))
    assert load_settings({}, endpoints=Path("none.yml")).timezone == "Asia/Shanghai"
