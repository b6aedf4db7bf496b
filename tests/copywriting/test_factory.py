from __future__ import annotations

from pathlib import Path

import pytest

from copywriting.factory import build_backend
from copywriting.generator import GeneratorError
from copywriting.openai_backend import OpenAIGenerator
from copywriting.templates import TemplateGenerator
from copywriting.transformers_backend import TransformersGenerator
from marketing.settings import Settings


def test_backends_are_chosen_by_name_or_settings(tmp_path: Path) -> None:
    assert isinstance(build_backend(Settings()).generator, TemplateGenerator)
    openai = build_backend(Settings(generator="openai", generator_timeout_s=30))
    assert isinstance(openai.generator, OpenAIGenerator)
    assert openai.model.startswith("qwen2.5-7b-instruct @ http://127.0.0.1")
    local = build_backend(Settings(), "transformers", str(tmp_path))
    assert isinstance(local.generator, TransformersGenerator)
    assert (local.name, local.model) == ("transformers", str(tmp_path))


def test_a_missing_local_model_says_how_to_get_it(tmp_path: Path) -> None:
    settings = Settings(generator="transformers", model_dir=str(tmp_path / "none"))
    with pytest.raises(GeneratorError, match="make assets-llm"):
        build_backend(settings)


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(GeneratorError, match="unknown backend"):
        build_backend(Settings(), "gpt")
