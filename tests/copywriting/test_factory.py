from __future__ import annotations

from copywriting.factory import build_generator
from copywriting.openai_backend import OpenAIGenerator
from copywriting.transformers_backend import TransformersGenerator
from marketing.settings import Settings


def test_backends_are_chosen_by_settings() -> None:
    assert build_generator(Settings()).backend is None
    openai = build_generator(Settings(generator="openai", generator_timeout_s=1))
    assert isinstance(openai.backend, OpenAIGenerator) and openai.timeout_s == 1
    local = build_generator(Settings(generator="transformers", model_dir="/m"))
    assert isinstance(local.backend, TransformersGenerator)
    assert build_generator(Settings(generator="transformers")).backend is None
