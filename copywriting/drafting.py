"""Drafts campaign copy: samples a backend, tidies and checks each draft.

For each brief, :class:`CopyDrafter` asks the backend for ``n`` samples, strips
what a model adds around the copy (an echo of the prompt, its reasoning, and
:mod:`copywriting.model_output`: a preamble, label, options, explanation),
runs the checks (:mod:`copywriting.checks`) and drops near-duplicates of drafts
kept before (in this run or stored earlier). What it returns is ready to store
pending (:class:`marketing.copy_drafts.NewDraft`).
A backend failure on one sample is counted, not fatal: the other samples go on.
No Rasa.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from copywriting.brief import CopyBrief
from copywriting.checks import MAX_CHARS, MIN_CHARS, DraftChecker
from copywriting.compliance import limit_bytes, strip_echo
from copywriting.factory import Backend
from copywriting.generator import GeneratorError
from copywriting.model_output import copy_in
from copywriting.prompts import facts_block, instructions, prompt_lines
from copywriting.similarity import is_near_duplicate
from marketing.copy_drafts import NewDraft

logger = logging.getLogger(__name__)

# Where a sentence of Chinese copy ends (its closing quote or emoji stays on).
_SENTENCE_END = re.compile(r"[。！？!?～…]+[”’」』)）]?")


@dataclass
class DraftBatch:
    """One brief's drafts and what was left out.

    Attributes:
        drafts: Drafts to store (checked; failures are on each draft).
        duplicates: Samples dropped as near-duplicates.
        empty: Samples with no copy left after tidying.
        errors: Backend errors, one per failed sample.
    """

    drafts: list[NewDraft] = field(default_factory=list)
    duplicates: int = 0
    empty: int = 0
    errors: list[str] = field(default_factory=list)


def tidy(text: str, brief: CopyBrief) -> str:
    """The copy in a model's answer: no prompt echo, nothing around the copy.

    A copy longer than the length check allows is cut after its last whole
    sentence that fits, if what is left is long enough: models overshoot "40 到
    100 字", and their first sentences are the copy.
    """
    request = brief.request()
    echoes = ("\n".join(prompt_lines(request)), facts_block(request))
    text = strip_echo(text, echoes, instructions(request))
    return limit_bytes(fit(copy_in(text)))


def fit(text: str, longest: int = MAX_CHARS, shortest: int = MIN_CHARS) -> str:
    """``text``, or its whole sentences that fit in ``longest`` characters."""
    if len(text) <= longest:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, longest + 1)]
    ends = [end for end in ends if shortest <= end <= longest]
    return text[: ends[-1]].rstrip() if ends else text


class CopyDrafter:
    """Turns briefs into checked drafts with one backend.

    Args:
        backend: The backend and the model it records.
        checker: Checks each draft against its brief.
    """

    def __init__(self, backend: Backend, checker: DraftChecker) -> None:
        self.backend = backend
        self.checker = checker

    async def draft(
        self,
        brief: CopyBrief,
        n: int,
        earlier: Sequence[str] = (),
        on_sample: Callable[[], None] = lambda: None,
    ) -> DraftBatch:
        """``n`` samples for ``brief``, checked, near-duplicates dropped.

        Args:
            brief: What to write about.
            n: Samples to ask the backend for.
            earlier: Copy stored before for the same campaign variant.
            on_sample: Called after each sample (a progress bar).
        """
        batch = DraftBatch()
        kept: list[str] = list(earlier)
        for _ in range(n):
            try:
                raw = await self.backend.generator.generate(brief.request())
            except GeneratorError as e:
                logger.warning("Copy backend failed on %s: %s", brief.campaign, e)
                batch.errors.append(str(e))
                on_sample()
                continue
            text = tidy(raw, brief)
            if not text:
                batch.empty += 1
            elif is_near_duplicate(text, kept):
                batch.duplicates += 1
            else:
                kept.append(text)
                batch.drafts.append(self._new_draft(brief, text))
            on_sample()
        return batch

    def _new_draft(self, brief: CopyBrief, text: str) -> NewDraft:
        return NewDraft(
            campaign=brief.campaign,
            variant=brief.variant,
            subject=brief.subject,
            tone=brief.tone,
            segment=brief.segment,
            backend=self.backend.name,
            model=self.backend.model,
            text=text,
            failures=self.checker.check(text, brief),
            brief=brief.to_json(),
        )
