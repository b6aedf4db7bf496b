"""The drafting backend a marketer asks for: template, local model or server.

Its own module because it knows every backend, and the backends import
:mod:`copywriting.generator` (for :class:`GeneratorError`): keeping the choice out of
that module keeps the imports one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from copywriting.generator import CopyGenerator, GeneratorError
from copywriting.openai_backend import OpenAIGenerator
from copywriting.templates import TemplateGenerator
from copywriting.transformers_backend import TransformersGenerator
from marketing.settings import GENERATOR_BACKENDS, Settings

TEMPLATES = "templates"


@dataclass(frozen=True)
class Backend:
    """A drafting backend and what its drafts record as their author."""

    name: str
    model: str
    generator: CopyGenerator


def build_backend(
    settings: Settings, name: str | None = None, model: str | None = None
) -> Backend:
    """The backend ``name`` (default: the settings'), with ``model`` if given.

    Args:
        settings: The marketing settings (model folder, device, server).
        name: ``template``, ``transformers`` or ``openai``.
        model: The local model (folder or ``.gguf``) for ``transformers``, the
            server's model name for ``openai``.

    Raises:
        GeneratorError: The name is unknown, or the local model is missing (the
            message says how to get it).
    """
    name = name or settings.generator
    if name == "template":
        return Backend(name, TEMPLATES, TemplateGenerator())
    if name == "transformers":
        path = Path(model or settings.model_dir)
        if not path.exists():
            raise GeneratorError(
                f"no local model at {path}: run `make assets-llm` for the offline "
                f"Qwen2.5-Coder models, or pass --model / set "
                f"AURORA_GENERATOR_MODEL_DIR to a save_pretrained folder or .gguf file"
            )
        local = TransformersGenerator(path, settings.device, settings.max_new_tokens)
        return Backend(name, str(path), local)
    if name == "openai":
        served = model or settings.openai_model
        server = OpenAIGenerator(
            settings.openai_base_url,
            served,
            settings.openai_api_key,
            settings.max_new_tokens,
            request_timeout_s=settings.generator_timeout_s,
        )
        return Backend(name, f"{served} @ {settings.openai_base_url}", server)
    raise GeneratorError(f"unknown backend {name!r}; use one of {GENERATOR_BACKENDS}")
