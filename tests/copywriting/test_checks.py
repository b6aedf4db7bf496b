"""The draft checks against a brief of the real catalog."""

from __future__ import annotations

import pytest

from catalog.model import Catalog
from copywriting.brief import CopyBrief
from copywriting.checks import AD_LAW, FACTS, FORMAT, LENGTH, SIZE, DraftChecker

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
    short = "极光 Buds Pro 2 新品上市，降噪续航都很出色"
    assert checks_failed(checker, short) == [LENGTH]
    assert checks_failed(checker, "降噪" * 61) == [LENGTH]
    assert checks_failed(checker, "好" * 30) == []


def test_the_sent_message_must_fit_wechats_2048_bytes(catalog: Catalog) -> None:
    checker = DraftChecker(catalog, link_bytes=2000)
    assert checks_failed(checker, GOOD) == [SIZE]


@pytest.mark.parametrize(
    ("draft", "detail"),
    [
        ("首发八折", "80 (discount)"),  # the brief's 8 is 8 小时, not 8 折
        ("立减 50 元", "50 (money)"),  # its 50 is 50dB
        ("32 期免息", "32 (instalments)"),
        ("前 40 名下单", "40 (count)"),
        ("满三百减五十", "300 (money)"),
        ("全场包邮，买一送一", "offers not in the brief: 包邮、赠品"),
        ("明天就截止", "offers not in the brief: 截止"),
    ],
)
def test_amounts_are_read_with_their_units_and_offers_in_words(
    checker: DraftChecker, draft: str, detail: str
) -> None:
    brief = CopyBrief(
        campaign="c", variant="v", subject="au-buds-pro2", kind="product",
        title="极光 Buds Pro 2",
        facts=(
            "降噪深度 50dB，单次 8 小时、总续航 32 小时",
            "价格：999 元（原价 1199 元）",
            "满 3000 减 200 元，首发享 12 期免息，40 小时续航",
        ),
    )  # fmt: skip
    text = f"极光 Buds Pro 2 上市，自适应降噪，{draft}，通勤路上一戴就安静～"
    failures = checker.check(text, brief)
    assert {f.check for f in failures} == {FACTS}, failures
    assert any(detail in f.detail for f in failures), failures


@pytest.mark.parametrize(
    "said",
    [
        "给你一个安静的通勤，每一天都有一副好耳机陪伴",  # 一个, 每一天: words
        "今晚20点准时开售",  # the brief's 20:00
        "九五折入手",  # the brief's 95 折
        "1️⃣ 降噪 2️⃣ 续航",  # keycaps are no numbers
        "直降 200 元",  # 1199 - 999
        "首发享 12 期免息",
    ],
)
def test_good_copy_that_says_the_briefs_facts_its_own_way_passes(
    checker: DraftChecker, said: str
) -> None:
    brief = CopyBrief(
        campaign="c", variant="v", subject="au-buds-pro2", kind="product",
        title="极光 Buds Pro 2",
        facts=(
            "价格：999 元（原价 1199 元）",
            "本条要点：今晚 20:00 开售，首发享 12 期免息，95 折",
        ),
    )  # fmt: skip
    text = f"极光 Buds Pro 2 新品上市，自适应降噪，{said}，通勤路上一戴就安静～"
    assert checker.check(text, brief) == ()


@pytest.mark.parametrize(
    ("draft", "what"),
    [
        (GOOD + "\n回复TD退订 https://x.cn/a", "a link, an opt-out line"),
        ("<b>双12</b>" + GOOD, "HTML"),
        ("好的，以下是文案：\n" + GOOD, "a preamble or explanation"),
        ("1. " + GOOD + "\n2. 另一条", "numbered options"),
        ("**" + GOOD + "**", "markdown"),
        (
            "Aurora Buds Pro 2 is here with adaptive noise cancelling for 999 yuan!",
            "not Chinese",
        ),
        ("🎉" * 40, "not Chinese"),
    ],
)
def test_anything_but_copy_fails_the_format_check(
    checker: DraftChecker, draft: str, what: str
) -> None:
    failures = [f for f in checker.check(draft, BRIEF) if f.check == FORMAT]
    assert failures and what in failures[0].detail
