from __future__ import annotations

from pathlib import Path

import pytest

from marketing.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "missing.yml")
    assert settings.generator == "template"
    assert settings.generator_timeout_s == 2.0
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
