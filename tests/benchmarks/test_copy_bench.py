"""The copy benchmark's runner: one sample per call, outcomes, a child per backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.copy_bench import (
    NOT_BUILT,
    Child,
    draft_briefs,
    main,
    measure,
    run_child,
)
from benchmarks.copy_briefs import load_briefs
from benchmarks.copy_stats import DRAFT, DUPLICATE, EMPTY, ERROR
from catalog.loader import load_catalog
from copywriting.checks import DraftChecker
from copywriting.factory import Backend
from copywriting.generator import GeneratorError
from copywriting.request import CopyRequest
from tests.copywriting.tiny_qwen import build_tiny_qwen

GOOD = "极光 X5 Ultra 夜景人像都清晰，年度影像旗舰现已开售，欢迎到店体验和咨询～"
ANSWERS: tuple[str | Exception, ...] = (
    GOOD,
    GOOD + "！",  # a near-duplicate of the first
    "文案：",  # nothing left after tidying
    GeneratorError("server down"),
    "极光 X5 Ultra 今天原价 8999 元，12月20日前下单再减，欢迎到店体验和咨询～",
    "极光 X5 Pro 兼顾性能与拍照，日常和游戏都流畅，双12期间欢迎来官方商城看看～",
)


class ScriptedGenerator:
    """Answers from a script, in order."""

    def __init__(self) -> None:
        self.answers = list(ANSWERS)

    async def generate(self, request: CopyRequest) -> str:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_every_sample_is_timed_and_has_its_outcome() -> None:
    briefs = load_briefs()[4:6]  # products: 极光 X5 Ultra, then 极光 X5 Pro
    seeds: list[int] = []
    done: list[int] = []
    samples = await draft_briefs(
        Backend("scripted", "script", ScriptedGenerator()),
        DraftChecker(load_catalog()),
        briefs,
        samples=3,
        seed=seeds.append,
        count_tokens=len,
        progress=lambda s: done.append(s.brief),
    )
    statuses = [DRAFT, DUPLICATE, EMPTY, ERROR, DRAFT, DRAFT]
    assert [s.status for s in samples] == statuses
    assert seeds == [0, 1, 2, 3, 4, 5] and done == [0, 0, 0, 1, 1, 1]
    assert [(s.brief, s.sample) for s in samples][2:4] == [(0, 2), (1, 0)]
    first, duplicate, empty, error, invented, passing = samples
    assert first.text == GOOD and not first.failures and first.tokens == len(GOOD)
    assert duplicate.text == GOOD + "！"
    assert empty.raw == "文案：" and empty.text == ""
    assert error.raw == "server down" and error.tokens is None
    # The second brief is about X5 Pro: X5 Ultra, its price and date are invented.
    details = " ".join(d for c, d in invented.failures if c == "facts")
    assert "8999" in details and "12月20日" in details and "X5 Ultra" in details
    assert passing.failures == ()
    assert all(s.seconds >= 0 for s in samples)


def test_a_missing_model_is_reported_not_run(tmp_path: Path) -> None:
    run = measure(Child("qwen-0.5b", tmp_path / "missing"))
    assert run.skipped == NOT_BUILT and not run.samples


def test_the_template_backend_end_to_end_in_a_child(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    code = main(
        [
            "--backends",
            "template,qwen-1.5b",
            "--limit",
            "3",
            "--qwen-1.5b",
            str(tmp_path / "missing"),
            "--json",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "| | template | qwen-1.5b |" in printed
    assert "| samples (briefs × samples) | 3 | not built: run make assets-llm |" in (
        printed
    )
    payload = json.loads(out.read_text(encoding="utf-8"))
    template, skipped = payload["runs"]
    assert [s["status"] for s in template["samples"]] == [DRAFT] * 3
    assert template["peak_rss_mib"] > 0 and template["settings"]["seed"] == 14
    assert skipped["skipped"] == NOT_BUILT
    assert payload["summaries"][0]["passing"]["facts"] == 1.0
    assert payload["meta"]["limit"] == 3


def test_a_local_model_run_is_seeded_and_records_its_settings(tmp_path: Path) -> None:
    model = build_tiny_qwen(tmp_path / "tiny")
    child = Child("qwen-0.5b", model, samples=2, limit=2, device="cpu")
    first, again = run_child(child), run_child(child)
    assert [s.raw for s in first.samples] == [s.raw for s in again.samples]
    assert len({s.raw for s in first.samples}) > 1  # each sample its own seed
    assert all(s.tokens for s in first.samples if s.raw)
    assert first.settings is not None
    assert first.settings["device"] == "cpu" and first.settings["top_k"] > 0
    assert first.settings["dtype"] in ("float32", "bfloat16")
    assert first.peak_rss_mib >= first.rss_before_load_mib > 0
