"""Marketing copy generation: the backend Protocol and its error.

Backends (:mod:`copywriting.templates`, :mod:`copywriting.transformers_backend`,
:mod:`copywriting.openai_backend`) only turn a :class:`CopyRequest` into text;
:mod:`copywriting.factory` picks one, :mod:`copywriting.drafting` turns its text
into checked drafts. Generation is slow on a CPU (seconds to a minute per
draft): it drafts campaign copy ahead of time, never a reply a customer waits
for (:mod:`copywriting.chat_copy`).
"""

from __future__ import annotations

from typing import Protocol

from copywriting.request import CopyRequest


class GeneratorError(Exception):
    """A backend could not produce copy (unreachable, bad answer, no model)."""


class CopyGenerator(Protocol):
    """A backend: one request in, raw copy out (may raise GeneratorError)."""

    async def generate(self, request: CopyRequest) -> str:
        """Writes copy for ``request``."""
