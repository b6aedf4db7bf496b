"""The draft checks against a brief of the real catalog."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.model import Catalog
from copywriting.brief import CopyBrief
from copywriting.checks import (
    AD_LAW,
    FACTS,
    LENGTH,
    SIZE,
    DraftChecker,
    chinese_number,
    dates_in,
    numbers_in,
    times_in,
)

BRIEF = CopyBrief(
    campaign="buds-pro2-launch",
    variant="text",
    subject="au-buds-pro2",
    kind="product",
    title="极光 Buds Pro 2",
    facts=(
        "自适应降噪，40 小时续航",
        "价格：999 元（原价 1199 元）",
        "优惠：耳机第二件半价（11月15日至11月30日）",
        "本条要点：首发享 12 期免息，今晚 20:00 开售",
    ),
)
GOOD = (
    "极光 Buds Pro 2 上新啦🎧 自适应降噪，40 小时续航，到手 999 元，"
    "享 12 期免息，11月30日前第二件半价！"
)


@pytest.fixture(scope="module")
def checker(catalog: Catalog) -> DraftChecker:
    return DraftChecker(catalog)


def checks_failed(checker: DraftChecker, text: str) -> list[str]:
    return [f.check for f in checker.check(text, BRIEF)]


def test_a_draft_that_keeps_to_the_brief_passes(checker: DraftChecker) -> None:
    assert checker.check(GOOD, BRIEF) == ()


@pytest.mark.parametrize(
    ("draft", "detail"),
    [
        (
            "极光 Buds Pro 2 原价 899 元，现在只要 999 元，自适应降噪陪你通勤每一天！",
            "899",
        ),
        (
            "极光 Buds Pro 2 新品上市，自适应降噪，12月20日前下单享好礼，欢迎选购～",
            "12月20日",
        ),
        (
            "极光 Buds Pro 2 新品上市，自适应降噪，今晚 21:00 准时开售，欢迎来抢购！！",
            "21:00",
        ),
        (
            "极光 Buds Pro 2 新品上市，自适应降噪，全场五折起，欢迎选购，先到先得哦～",
            "5",
        ),
        (
            "极光 Buds Pro 2 新品上市，搭配极光 X5 Ultra 一起用更香，"
            "自适应降噪超安静～",
            "X5 Ultra",
        ),
    ],
)
def test_invented_numbers_dates_times_and_products_fail_facts(
    checker: DraftChecker, draft: str, detail: str
) -> None:
    failures = checker.check(draft, BRIEF)
    assert [f.check for f in failures] == [FACTS]
    assert detail in failures[0].detail


def test_absolute_claims_fail_with_the_filters_suggestion(
    checker: DraftChecker,
) -> None:
    failures = checker.check("全网最低价！" + GOOD, BRIEF)
    assert [f.check for f in failures] == [AD_LAW]
    assert "全网最低" in failures[0].detail
    assert "suggested: 优惠价！极光 Buds Pro 2" in failures[0].detail


def test_length_is_thirty_to_a_hundred_and_twenty_characters(
    checker: DraftChecker,
) -> None:
    assert checks_failed(checker, "极光 Buds Pro 2 上新") == [LENGTH]
    assert checks_failed(checker, "降噪" * 61) == [LENGTH]
    assert checks_failed(checker, "好" * 30) == []


def test_the_sent_message_must_fit_wechats_2048_bytes(catalog: Catalog) -> None:
    checker = DraftChecker(catalog, link_bytes=2000)
    assert checks_failed(checker, GOOD) == [SIZE]


def test_numbers_dates_and_times_are_read_in_every_usual_form() -> None:
    assert dates_in("12月12日、12月1号、12/31 与 1.5 元、9.5折") == [
        (12, 12),
        (12, 1),
        (12, 31),
    ]
    assert times_in("今晚 20:00，明早8：30") == [(20, 0), (8, 30)]
    found = numbers_in("到手 1,299 元，9.5折，两百元券，九五折，12 期，20:00 开抢")
    assert found == [
        Decimal("1299"),
        Decimal("9.5"),
        Decimal("12"),
        Decimal("200"),
        Decimal("95"),
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [("两百", 200), ("十二", 12), ("一千五百", 1500), ("三万", 30000), ("九五", 95)],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_number(text) == value
