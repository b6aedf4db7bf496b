from __future__ import annotations

from decimal import Decimal

import pytest

from copywriting.quantities import (
    COUNT,
    DISCOUNT,
    MONEY,
    PERCENT,
    PLAIN,
    SPEC,
    Day,
    Quantity,
    chinese_number,
    days_in,
    quantities_in,
    times_in,
)


def q(value: str, kind: str) -> Quantity:
    return Quantity(Decimal(value), kind)


def test_amounts_come_with_what_they_count() -> None:
    assert quantities_in(
        "到手 ¥1,299，９．５折，两百元券，九五折，前 40 名，50dB，八成新"
    ) == [
        q("1299", MONEY),
        q("95", DISCOUNT),
        q("40", COUNT),
        q("50", SPEC),
        q("200", MONEY),
        q("95", DISCOUNT),
        q("80", PERCENT),
    ]
    assert quantities_in("8 小时续航，8 天无理由") == [
        q("8", "duration:小时"),
        q("8", "duration:天"),
    ]


def test_words_with_numerals_and_keycaps_are_no_amounts() -> None:
    assert quantities_in("一起来，每一天，一个好选择，一副耳机，万一，1️⃣") == []
    assert quantities_in("满三百减五十") == [q("300", MONEY), q("50", MONEY)]
    assert quantities_in("双12") == [q("12", PLAIN)]


def test_days_times_and_ranges() -> None:
    assert days_in("11月20日至12月11日，12.12 开抢，6.7 英寸，蓝牙 5.3") == [
        Day(11, 20, starts_range=True),
        Day(12, 11),
        Day(12, 12),
    ]
    assert times_in("今晚 20:00，晚8点，下午3点半，10点10分") == [
        (20, 0),
        (20, 0),
        (15, 30),
        (10, 10),
    ]
    assert quantities_in("12月12日 20:00 开奖") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("两百", 200), ("十二", 12), ("一千五百", 1500), ("三万", 30000), ("九五", 95)],
)
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_number(text) == value
