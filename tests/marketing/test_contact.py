from __future__ import annotations

import pytest

from marketing.contact import (
    MAX_NAME_LENGTH,
    clean_contact_name,
    mask_mobile,
    parse_mobile,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 139-0000-1234", "13900001234"),
        ("008615912345678", "15912345678"),
        ("我的电话是１３８１２３４５６７８，谢谢", "13812345678"),
        ("我姓王，电话18600001111", "18600001111"),
    ],
)
def test_parse_mobile_accepts_what_customers_type(text: str, expected: str) -> None:
    assert parse_mobile(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12345",
        "12812345678",
        "138123456789",
        "010-12345678",
        "电话稍后给",
        "😀" * 50,
    ],
)
def test_parse_mobile_rejects_non_mobiles(text: str) -> None:
    assert parse_mobile(text) is None


def test_parse_mobile_survives_huge_input() -> None:
    assert parse_mobile("嗯" * 10_000 + "13812345678") == "13812345678"


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("123", "***"),
        ("", "***"),
    ],
)
def test_mask_mobile_hides_the_middle_digits(number: str, masked: str) -> None:
    assert mask_mobile(number) == masked


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("我姓王", "王"),
        ("叫我小李就行", "小李"),
        ("王先生", "王先生"),
        ("Amy", "Amy"),
        ("我是陈女士。", "陈女士"),
        ("我叫张伟，电话13812345678", "张伟"),
    ],
)
def test_clean_contact_name_keeps_the_name(text: str, name: str) -> None:
    assert clean_contact_name(text) == name


@pytest.mark.parametrize(
    "text", ["", "   ", "13812345678", "你们是骗子吗？", "名" * (MAX_NAME_LENGTH + 1)]
)
def test_clean_contact_name_rejects_non_names(text: str) -> None:
    assert clean_contact_name(text) is None
