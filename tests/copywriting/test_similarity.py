from __future__ import annotations

import pytest

from copywriting.similarity import bigrams, distinct_2, is_near_duplicate, similarity


def test_bigrams_skip_punctuation_spaces_and_emoji() -> None:
    assert bigrams("极光 X5！🎉好") == ["极光", "光x", "x5", "5好"]


def test_copies_differing_only_in_punctuation_are_the_same() -> None:
    assert similarity("双12大促开始啦！快来", "双12大促开始啦～快来。") == 1.0
    assert similarity("", "") == 1.0 and similarity("！", "好") == 0.0


def test_near_duplicates_against_any_earlier_copy() -> None:
    earlier = ["极光 Buds Pro 2 新品上市，自适应降噪，40 小时续航"]
    assert is_near_duplicate(
        "极光 Buds Pro 2 新品上市！自适应降噪，40 小时续航～", earlier
    )
    assert not is_near_duplicate("Buds Pro 2 来了：通勤路上一戴就安静", earlier)
    assert not is_near_duplicate("anything", [])


def test_distinct_2_is_one_for_all_new_bigrams_and_falls_with_repeats() -> None:
    assert distinct_2(["极光手机", "优惠活动"]) == 1.0
    assert distinct_2(["极光手机", "极光手机"]) == pytest.approx(0.5)
    assert distinct_2([]) == 0.0
