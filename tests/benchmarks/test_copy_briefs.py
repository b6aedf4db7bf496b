"""The copy benchmark's committed briefs make a usable, self-consistent set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from benchmarks.copy_briefs import (
    BRIEFS_PATH,
    KINDS,
    MIN_BRIEFS,
    BriefSetError,
    build_briefs,
    dump_briefs,
    load_briefs,
)
from catalog.loader import load_catalog
from copywriting.checks import FACTS, DraftChecker
from copywriting.drafting import tidy
from copywriting.request import TONES
from copywriting.templates import render
from marketing.segments import load_segments
from marketing.settings import DEFAULT_SEGMENTS_PATH

BRIEFS = load_briefs()
Entries = list[dict[str, object]]


def test_the_committed_set_covers_every_kind_and_tone() -> None:
    assert len(BRIEFS) >= MIN_BRIEFS
    assert {b.kind for b in BRIEFS} == set(KINDS)
    assert {b.tone for b in BRIEFS} == set(TONES.values())
    # Variety the figures depend on: prices with and without an original
    # price, offers with dates, campaign rewards, angles.
    facts = [f for b in BRIEFS for f in b.facts]
    assert any("原价" in f for f in facts)
    assert any(f.startswith("价格") and "原价" not in f for f in facts)
    assert any(f.startswith("优惠") and "月" in f for f in facts)
    assert any(f.startswith("奖励") for f in facts)
    assert any(f.startswith("本条要点") for f in facts)


def test_every_brief_states_the_facts_its_template_draft_uses() -> None:
    checker = DraftChecker(load_catalog())
    for brief in BRIEFS:
        draft = tidy(render(brief.request()), brief)
        failed = [f for f in checker.check(draft, brief) if f.check == FACTS]
        assert not failed, (brief.campaign, failed)


def test_the_written_form_reads_back(tmp_path: Path) -> None:
    briefs = build_briefs(load_catalog(), load_segments(DEFAULT_SEGMENTS_PATH))
    path = tmp_path / "briefs.yml"
    path.write_text(dump_briefs(briefs), encoding="utf-8")
    assert load_briefs(path) == briefs


def _write(tmp_path: Path, entries: object) -> Path:
    path = tmp_path / "briefs.yml"
    path.write_text(yaml.safe_dump({"briefs": entries}, allow_unicode=True))
    return path


def _entries() -> Entries:
    raw = yaml.safe_load(BRIEFS_PATH.read_text("utf-8"))
    entries: Entries = raw["briefs"]
    return entries


def _without_calm(entries: Entries) -> Entries:
    kept = [e for e in entries if e["tone"] != "温和"] * 2
    return [{**e, "variant": str(i)} for i, e in enumerate(kept)]


CHANGES: dict[str, tuple[Callable[[Entries], list[object]], str]] = {
    "too few": (lambda e: [*e[: MIN_BRIEFS - 1]], "at least"),
    "repeated": (lambda e: [*e, e[0]], "repeat"),
    "no tone": (lambda e: [*_without_calm(e)], "no brief of tone 温和"),
    "unknown kind": (lambda e: [*e[1:], {**e[0], "kind": "news"}], "kind 'news'"),
    "facts": (lambda e: [*e[1:], {**e[0], "facts": "价格"}], "facts must be a list"),
    "extra field": (lambda e: [*e[1:], {**e[0], "price": 1}], "price"),
    "no mapping": (lambda e: [*e[1:], "brief"], "expected a mapping"),
}


@pytest.mark.parametrize("name", CHANGES)
def test_an_unusable_set_is_refused(tmp_path: Path, name: str) -> None:
    change, message = CHANGES[name]
    with pytest.raises(BriefSetError, match=message):
        load_briefs(_write(tmp_path, change(_entries())))


def test_a_missing_or_broken_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BriefSetError, match="cannot read"):
        load_briefs(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("briefs: [", encoding="utf-8")
    with pytest.raises(BriefSetError, match="cannot read"):
        load_briefs(broken)
    broken.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(BriefSetError, match="list of briefs"):
        load_briefs(broken)
