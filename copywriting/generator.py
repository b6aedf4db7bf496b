"""Marketing copy generation: the request, the backend Protocol and the guard.

Backends (:mod:`copywriting.templates`, :mod:`copywriting.transformers_backend`,
:mod:`copywriting.openai_backend`) only turn a :class:`CopyRequest` into text;
:mod:`copywriting.factory` picks one from the settings.
:class:`GuardedGenerator` is what actions use: it waits for the backend at most
``timeout_s`` seconds, answers with the template otherwise (a slow backend keeps
running in the background and its late answer is dropped), and passes every copy
through :func:`copywriting.compliance.clean`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from copywriting.compliance import clean
from copywriting.prompts import facts_block, instructions, prompt_lines
from copywriting.request import CopyRequest
from telemetry import metrics

logger = logging.getLogger(__name__)

TEMPLATE_VARIANT = "template"
MODEL_VARIANT = "model"


class GeneratorError(Exception):
    """A backend could not produce copy (unreachable, bad answer, no model)."""


@dataclass(frozen=True)
class GeneratedCopy:
    """Copy ready to send, with the variant that wrote it."""

    text: str
    variant: str


class CopyGenerator(Protocol):
    """A backend: one request in, raw copy out (may raise GeneratorError)."""

    async def generate(self, request: CopyRequest) -> str:
        """Writes copy for ``request``."""


class GuardedGenerator:
    """The generator actions use: backend with a hard timeout, then compliance.

    Args:
        backend: The configured backend, or ``None`` for templates only.
        fallback: The template generator, used on timeout or error.
        timeout_s: How long to wait for the backend.
    """

    def __init__(
        self,
        backend: CopyGenerator | None,
        fallback: CopyGenerator,
        timeout_s: float = 2.0,
    ) -> None:
        self.backend = backend
        self.fallback = fallback
        self.timeout_s = timeout_s

    async def generate(self, request: CopyRequest) -> GeneratedCopy:
        """Copy for ``request``: the model's within the timeout, else the template."""
        if self.backend is not None:
            text = await self._from_backend(self.backend, request)
            if text:
                return GeneratedCopy(text, MODEL_VARIANT)
        raw = await self.fallback.generate(request)
        return GeneratedCopy(clean(raw), TEMPLATE_VARIANT)

    async def _from_backend(self, backend: CopyGenerator, request: CopyRequest) -> str:
        task = asyncio.ensure_future(backend.generate(request))
        done, _ = await asyncio.wait({task}, timeout=self.timeout_s)
        if task not in done:
            metrics.GENERATOR_FALLBACKS.labels(metrics.TIMEOUT).inc()
            logger.warning(
                "Copy backend slower than %.1f s; sending the template.", self.timeout_s
            )
            task.add_done_callback(_drop_late_result)
            return ""
        error = task.exception()
        if error is not None:
            metrics.GENERATOR_FALLBACKS.labels(metrics.ERROR).inc()
            logger.warning("Copy backend failed (%s); sending the template.", error)
            return ""
        echoes = ("\n".join(prompt_lines(request)), facts_block(request))
        text = clean(task.result(), echoes, instructions(request))
        if not text:
            metrics.GENERATOR_FALLBACKS.labels(metrics.EMPTY_COPY).inc()
            logger.warning("Copy backend returned nothing usable; using the template.")
        return text


def _drop_late_result(task: asyncio.Future[str]) -> None:
    # Retrieve the outcome so a late failure is not reported as "never retrieved".
    if not task.cancelled() and task.exception() is not None:
        logger.info("Late copy backend failure ignored: %s", task.exception())
