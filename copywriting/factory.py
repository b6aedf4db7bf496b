"""The copy generator the settings ask for: backend, template fallback, guard.

Its own module because it knows every backend, and the backends import
:mod:`copywriting.generator` (for :class:`GeneratorError`): keeping the choice out of
that module keeps the imports one way.
"""

from __future__ import annotations

import logging

from copywriting.generator import CopyGenerator, GuardedGenerator
from copywriting.openai_backend import OpenAIGenerator
from copywriting.templates import TemplateGenerator
from copywriting.transformers_backend import TransformersGenerator
from marketing.settings import Settings

logger = logging.getLogger(__name__)


def build_generator(settings: Settings) -> GuardedGenerator:
    """The generator chosen in the settings, guarded and with template fallback."""
    backend: CopyGenerator | None = None
    if settings.generator == "transformers":
        if settings.model_dir:
            backend = TransformersGenerator(
                settings.model_dir, settings.device, settings.max_new_tokens
            )
        else:
            logger.error("AURORA_GENERATOR_MODEL_DIR is not set; using templates.")
    elif settings.generator == "openai":
        backend = OpenAIGenerator(
            settings.openai_base_url,
            settings.openai_model,
            settings.openai_api_key,
            settings.max_new_tokens,
            request_timeout_s=settings.generator_timeout_s + 5,
        )
    return GuardedGenerator(backend, TemplateGenerator(), settings.generator_timeout_s)
