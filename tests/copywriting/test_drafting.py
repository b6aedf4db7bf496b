"""Drafting: samples tidied, checked, near-duplicates dropped, errors counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.model import Catalog
from copywriting.brief import CopyBrief
from copywriting.checks import FACTS, DraftChecker
from copywriting.drafting import CopyDrafter, fit, tidy
from copywriting.factory import Backend
from copywriting.generator import GeneratorError
from copywriting.prompts import facts_block, prompt_lines
from copywriting.request import CopyRequest
from copywriting.transformers_backend import TransformersGenerator
from tests.copywriting.tiny_qwen import build_tiny_qwen

BRIEF = CopyBrief(
    campaign="buds-pro2-launch",
    variant="text",
    subject="au-buds-pro2",
    kind="product",
    title="极光 Buds Pro 2",
    facts=("自适应降噪，40 小时续航", "价格：999 元（原价 1199 元）"),
    tone="热情",
)
GOOD = (
    "极光 Buds Pro 2 来了🎧 自适应降噪，40 小时续航，到手 999 元，通勤路上一戴就安静！"
)


class Scripted:
    """A backend that answers from a script; an exception in it is raised."""

    def __init__(self, answers: list[str | Exception]) -> None:
        self.answers: Iterator[str | Exception] = iter(answers)
        self.requests: list[CopyRequest] = []

    async def generate(self, request: CopyRequest) -> str:
        self.requests.append(request)
        answer = next(self.answers)
        if isinstance(answer, Exception):
            raise answer
        return answer


def drafter(catalog: Catalog, answers: list[str | Exception]) -> CopyDrafter:
    return CopyDrafter(Backend("openai", "m", Scripted(answers)), DraftChecker(catalog))


async def test_each_sample_is_checked_and_recorded_with_its_author(
    catalog: Catalog,
) -> None:
    invented = "极光 Buds Pro 2 原价 899 元，现在 999 元，自适应降噪陪你通勤每一天！"
    ticks: list[int] = []
    batch = await drafter(catalog, [GOOD, invented]).draft(
        BRIEF, 2, on_sample=lambda: ticks.append(1)
    )
    good, bad = batch.drafts
    assert good.text == GOOD and good.failures == ()
    assert [f.check for f in bad.failures] == [FACTS]
    assert (good.backend, good.model, good.campaign, good.variant) == (
        "openai",
        "m",
        "buds-pro2-launch",
        "text",
    )
    assert (good.subject, good.tone) == ("au-buds-pro2", "热情")
    assert CopyBrief.from_json(good.brief) == BRIEF
    assert len(ticks) == 2


async def test_near_duplicates_of_this_run_or_earlier_drafts_are_dropped(
    catalog: Catalog,
) -> None:
    again = GOOD.replace("！", "～")
    other = "通勤党看过来：极光 Buds Pro 2 自适应降噪，40 小时续航，999 元带回家。"
    batch = await drafter(catalog, [GOOD, again, other]).draft(BRIEF, 3, [other])
    assert [d.text for d in batch.drafts] == [GOOD]
    assert batch.duplicates == 2


async def test_errors_and_empty_answers_are_counted_and_drafting_goes_on(
    catalog: Catalog,
) -> None:
    answers: list[str | Exception] = [GeneratorError("server down"), "  ", GOOD]
    batch = await drafter(catalog, answers).draft(BRIEF, 3)
    assert batch.errors == ["server down"] and batch.empty == 1
    assert [d.text for d in batch.drafts] == [GOOD]


def test_tidy_removes_echo_labels_and_quotes() -> None:
    request = BRIEF.request()
    prompt = "\n".join(prompt_lines(request))
    assert tidy(f"{prompt}\n文案：“{GOOD}”", BRIEF) == GOOD
    assert tidy(f"{facts_block(request)}{GOOD}\n\n\n好", BRIEF) == f"{GOOD}\n好"
    assert tidy("<think>先想想</think>**推广文案：** " + GOOD, BRIEF) == GOOD


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen"))


async def test_a_tiny_random_qwen2_drafts_through_the_real_backend(
    catalog: Catalog, tiny_qwen: Path
) -> None:
    import torch

    torch.manual_seed(7)
    local = TransformersGenerator(tiny_qwen, device="cpu", max_new_tokens=60)
    batch = await CopyDrafter(
        Backend("transformers", str(tiny_qwen), local), DraftChecker(catalog)
    ).draft(BRIEF, 2)
    assert batch.errors == [] and batch.drafts
    for draft in batch.drafts:
        # Only the new tokens: no prompt, no special token, no spaces between hanzi.
        assert (
            "极光" not in draft.text and "[" not in draft.text and " " not in draft.text
        )
        assert draft.model == str(tiny_qwen)


def test_copy_too_long_is_cut_after_its_last_whole_sentence_that_fits() -> None:
    first = "极光 Buds Pro 2 来了🎧 自适应降噪，通勤路上一戴就安静。"
    second = "40 小时续航，到手 999 元！"
    long = first + second + "它还采用了无损音质技术，" * 8
    assert fit(long) == first + second
    assert fit(first) == first  # short enough: unchanged
    run_on = "降噪" * 80  # no sentence ends within the limit: left to the check
    assert fit(run_on) == run_on
