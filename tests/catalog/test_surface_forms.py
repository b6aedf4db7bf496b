from __future__ import annotations

from dataclasses import dataclass

import pytest

from catalog.errors import CatalogError
from catalog.surface_forms import (
    fold_key,
    fold_text,
    form_pattern,
    forms_table,
    lookup,
    unique_forms,
)


@dataclass(frozen=True)
class Entry:
    name: str
    surface_forms: tuple[str, ...]


def test_case_width_spaces_and_hyphens_do_not_matter() -> None:
    assert fold_key("X5-Pro") == fold_key("ｘ５ pro") == "x5pro"
    assert fold_text("X5 Pro") == "x5 pro"


def test_latin_edges_are_not_glued_to_more_latin() -> None:
    pattern = form_pattern(fold_key("X5"))
    assert pattern.search(fold_text("想买x5 手机"))
    assert pattern.search(fold_text("X-5怎么样"))
    assert not pattern.search(fold_text("x5pro多少钱"))


def test_lookup_prefers_the_exact_form_then_the_longest_contained() -> None:
    table = {"耳机": "耳机", "降噪耳机": "耳机", "手机": "手机"}
    assert lookup("手机", table) == "手机"
    assert lookup("想要降噪耳机", table) == "耳机"
    assert lookup("平板", table) is None
    assert lookup("  ", table) is None


def test_a_spelling_used_by_two_entries_is_an_error() -> None:
    table = forms_table("city", [Entry("上海", ("上海", "魔都"))])
    assert table == {"上海": "上海", "魔都": "上海"}
    with pytest.raises(CatalogError, match="魔都"):
        forms_table("city", [Entry("上海", ("魔都",)), Entry("北京", ("魔都",))])


def test_repeated_spellings_keep_the_first() -> None:
    assert unique_forms(["X5", "x5", "X5 Pro"]) == ("X5", "X5 Pro")
