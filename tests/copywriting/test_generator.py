"""The guard around every backend: timeout, errors, compliance, variant."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from copywriting.generator import (
    MODEL_VARIANT,
    TEMPLATE_VARIANT,
    GeneratorError,
    GuardedGenerator,
)
from copywriting.prompts import facts_block, prompt_lines
from copywriting.request import CopyRequest
from copywriting.templates import TemplateGenerator

REQUEST = CopyRequest("product", "ph-x5", "极光 X5", ("7.9mm 轻薄机身",))


class Fixed:
    def __init__(self, text: str, delay: float = 0.0) -> None:
        self.text, self.delay = text, delay

    async def generate(self, request: CopyRequest) -> str:
        await asyncio.sleep(self.delay)
        return self.text


class Broken:
    async def generate(self, request: CopyRequest) -> str:
        raise GeneratorError("backend down")


async def test_model_copy_is_cleaned_and_marked_as_model() -> None:
    guard = GuardedGenerator(Fixed("最好的极光 X5，销量第一！"), TemplateGenerator())
    copy = await guard.generate(REQUEST)
    assert copy.variant == MODEL_VARIANT
    assert "最" not in copy.text and "第一" not in copy.text


async def test_slow_backend_gets_the_template_within_the_timeout() -> None:
    guard = GuardedGenerator(Fixed("late", delay=5), TemplateGenerator(), 0.2)
    copy = await guard.generate(REQUEST)
    # The template, not the backend's late answer: the guard did not wait for it.
    assert copy.variant == TEMPLATE_VARIANT and "极光 X5" in copy.text


@pytest.mark.parametrize("backend", [Broken(), Fixed(""), Fixed("最第一")])
async def test_failing_or_empty_backend_falls_back_to_the_template(
    backend: Broken | Fixed,
) -> None:
    copy = await GuardedGenerator(backend, TemplateGenerator()).generate(REQUEST)
    assert copy.variant == TEMPLATE_VARIANT and copy.text


@pytest.mark.parametrize(
    ("backend", "timeout_s", "reason"),
    [
        (Fixed("late", delay=5), 0.2, "timeout"),
        (Broken(), 2.0, "error"),
        (Fixed(""), 2.0, "empty"),
    ],
)
async def test_each_fallback_is_counted_with_its_reason(
    backend: Broken | Fixed, timeout_s: float, reason: str
) -> None:
    name, labels = "aurora_generator_fallbacks_total", {"reason": reason}
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    await GuardedGenerator(backend, TemplateGenerator(), timeout_s).generate(REQUEST)
    assert REGISTRY.get_sample_value(name, labels) == before + 1


async def test_an_echoed_prompt_never_reaches_the_customer() -> None:
    prompt = "\n".join(prompt_lines(REQUEST))
    guard = GuardedGenerator(Fixed(prompt + "轻薄好拍的 X5。"), TemplateGenerator())
    copy = await guard.generate(REQUEST)
    assert copy.text == "轻薄好拍的 X5。"
    assert facts_block(REQUEST) not in copy.text
