"""Reading budgets customers type, and showing prices."""

from __future__ import annotations

import pytest

from catalog.budget import MAX_BUDGET, format_price, parse_budget


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3000", 3000),
        ("3000元", 3000),
        ("3000块", 3000),
        ("3000块钱", 3000),
        ("3,000元", 3000),
        ("3k", 3000),
        ("2K", 2000),
        ("1.5k", 1500),
        ("2-3k", 3000),
        ("1w", 10000),
        ("两千", 2000),
        ("两千块", 2000),
        ("兩千塊", 2000),
        ("一萬五", 15000),
        ("三千五", 3500),
        ("3千5", 3500),
        ("1.5万", 15000),
        ("一万五", 15000),
        ("1万2千", 12000),
        ("五百以内", 500),
        ("一千零五", 1005),
        ("两三千", 3000),
        ("三四千", 4000),
        ("2000-3000", 3000),
        ("2000 - 3000元", 3000),
        ("两千到三千", 3000),
        ("1500~2000", 2000),
        ("¥1999", 1999),
        ("￥1999", 1999),
        ("１２００", 1200),
        ("预算4000左右", 4000),
        ("推荐一款3000以内的手机", 3000),
        ("想要X5 Pro，预算5000", 5000),
        ("我手机号13812345678，预算两千", 2000),
        ("3000分期", 3000),
        ("5元", 5),
        ("一百万", 1_000_000),
    ],
)
def test_parse_budget(text: str, expected: float) -> None:
    assert parse_budget(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # no amount at all
        "",
        "   ",
        "随便推荐一下",
        "五星好评",
        "这个十分好用",
        "千万别买",
        "万一坏了怎么办",
        "几千块",
        # numbers that are not money
        "X5 Pro多少钱",
        "Nova 12怎么样",
        "iPhone15和X5比",
        "5000mAh的充电宝",
        "65W充电器",
        "2K屏幕清楚吗",
        "5G手机",
        "8+256的版本",
        "6.7寸",
        "双12有活动吗",
        "买2台",
        "我想买一块手表",
        "12期免息",
        "2026-12-01前能到吗",
        "10:30开门吗",
        "13812345678",
        "AU20261118123456",
        # zero, negative and absurd amounts
        "0",
        "0元",
        "-500",
        "预算-3000",
        "200万",
        "预算1亿",
        # garbage
        "😀😀😀",
        "🤑💰",
        pytest.param("啊" * 10_000, id="10k-chinese-chars"),
        pytest.param("1" * 10_000, id="10k-digits"),
        "9" * 400,
        "1 " * 5_000,
        "\x00\n\t",
    ],
)
def test_parse_budget_none(text: str) -> None:
    assert parse_budget(text) is None


def test_parse_budget_never_exceeds_the_limit() -> None:
    assert parse_budget(f"{int(MAX_BUDGET) + 1}元") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2999, "¥2,999"),
        (2999.0, "¥2,999"),
        (49, "¥49"),
        (49.5, "¥49.50"),
        (0, "¥0"),
        (1_234_567.891, "¥1,234,567.89"),
        (-5, "-¥5"),
    ],
)
def test_format_price(value: float, expected: str) -> None:
    assert format_price(value) == expected
