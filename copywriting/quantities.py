"""What a copy states in numbers: amounts with what they count, days and times.

The fact check (:mod:`copywriting.checks`) compares a draft's statements with its
brief's, so a number is read with its unit: "8 折" is a discount, "8 小时" a
duration, "999 元" money, "前 40 名" a count, "50dB" a spec. Discounts are
compared as written in tenths (9.5折 and 95折 are one discount, 五折 is 50),
Chinese numerals count when they state an amount ("两百元", "五折", "满三百减五十";
not "一个"/"每一天"), a keycap emoji (1️⃣) is no number, and days and clock
times are read apart ("12月12日", "12.12", "20:00", "晚8点") so their digits are
not amounts. Pure standard library.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MONEY, DISCOUNT, PERCENT, INSTALMENTS = "money", "discount", "percent", "instalments"
DURATION, COUNT, MULTIPLE, SPEC, PLAIN = (
    "duration",
    "count",
    "multiple",
    "spec",
    "plain",
)

# Unit words after a number, longest first, and what they make it.
_UNITS: tuple[tuple[str, str], ...] = (
    ("个月", DURATION), ("小时", DURATION), ("分钟", DURATION), ("英寸", SPEC),
    ("毫米", SPEC), ("厘米", SPEC), ("元", MONEY), ("块", MONEY), ("折", DISCOUNT),
    ("%", PERCENT), ("成", PERCENT), ("期", INSTALMENTS), ("天", DURATION),
    ("周", DURATION), ("年", DURATION), ("秒", DURATION), ("名", COUNT),
    ("张", COUNT), ("台", COUNT), ("位", COUNT), ("件", COUNT), ("份", COUNT),
    ("个", COUNT), ("副", COUNT), ("款", COUNT), ("次", COUNT), ("倍", MULTIPLE),
    ("寸", SPEC), ("db", SPEC), ("mah", SPEC), ("hz", SPEC), ("gb", SPEC),
    ("tb", SPEC), ("mm", SPEC), ("nm", SPEC), ("mp", SPEC), ("w", SPEC),
    ("k", SPEC), ("g", SPEC), ("h", DURATION),
)  # fmt: skip
_UNIT = "|".join(re.escape(u) for u, _ in _UNITS)
_KIND = dict(_UNITS)
# A Chinese numeral after one of these states money even without 元 (满三百减五十).
_MONEY_VERBS = ("满", "减", "省", "降", "返", "送")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN = "零〇一二两三四五六七八九十百千万"
# 12月12日, 12月1号, or 12/12 and 12.12 when not a spec (6.7英寸, 蓝牙 5.3).
_DATE = re.compile(
    r"(?<![\d.])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
    r"|(?<![\d./])(\d{1,2})[/.](\d{1,2})(?![\d./]|\s*(?:[a-z]|英寸|寸|[折元块倍%万]))"
)
# A range's start: its end is what says when it is over.
_RANGE_AFTER = re.compile(r"\s*(?:至|到|-|~|～|—|–)")
_SPEC_BEFORE = re.compile(r"(?:[a-z]|蓝牙|版本|系统)\s*$")
_TIME = re.compile(
    r"(?<!\d)([01]?\d|2[0-3])\s*[:：]\s*([0-5]\d)(?!\d)"
    r"|(早上|上午|中午|下午|傍晚|晚上|今晚|明晚|晚)?\s*(\d{1,2})\s*点\s*(半|(\d{1,2})\s*分)?"
)
_AFTERNOON = ("下午", "傍晚", "晚上", "今晚", "明晚", "晚")
_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")
_AMOUNT = re.compile(
    rf"(?P<yuan>[¥￥]\s*)?(?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?)\s*(?P<wan>万)?\s*"
    rf"(?P<unit>{_UNIT})?"
)
_CN_AMOUNT = re.compile(
    rf"(?P<verb>{'|'.join(_MONEY_VERBS)})?(?P<num>[{_CN}]+)\s*(?P<unit>{_UNIT})?"
)


@dataclass(frozen=True)
class Quantity:
    """A number and what it counts (one of the kinds above, or a duration unit)."""

    value: Decimal
    kind: str


@dataclass(frozen=True)
class Day:
    """A month and day, and whether a range starts there ("11月20日至…")."""

    month: int
    day: int
    starts_range: bool = False


def normalized(text: str) -> str:
    """``text`` NFKC-folded (full-width digits and ％), case-folded, no keycaps."""
    return unicodedata.normalize("NFKC", _KEYCAP.sub(" ", text)).casefold()


def days_in(text: str) -> list[Day]:
    """Every month and day ``text`` names."""
    text = normalized(text)
    found = []
    for match in _DATE.finditer(text):
        month, day = (int(g) for g in match.groups() if g is not None)
        dotted = match.group(3) is not None
        if dotted and _SPEC_BEFORE.search(text[: match.start()]):
            continue  # 蓝牙 5.3, x5.1
        if 1 <= month <= 12 and 1 <= day <= 31:
            starts = bool(_RANGE_AFTER.match(text, match.end()))
            found.append(Day(month, day, starts))
    return found


def times_in(text: str) -> list[tuple[int, int]]:
    """Every clock time ``text`` names, as (hour, minute) on a 24-hour clock."""
    found = []
    for match in _TIME.finditer(_without_days(normalized(text))):
        if match.group(1) is not None:
            found.append((int(match.group(1)), int(match.group(2))))
            continue
        hour = int(match.group(4))
        if hour > 24:
            continue
        if match.group(3) in _AFTERNOON and hour < 12:
            hour += 12
        minute = 30 if match.group(5) == "半" else int(match.group(6) or 0)
        found.append((hour, minute))
    return found


def quantities_in(text: str) -> list[Quantity]:
    """Every amount ``text`` states outside its days and times, with its kind."""
    rest = _TIME.sub(" ", _without_days(normalized(text)))
    found = []
    for match in _AMOUNT.finditer(rest):
        value = _decimal(match.group("num").replace(",", ""))
        if value is None:
            continue
        if match.group("wan"):
            value *= 10000
        unit = match.group("unit")
        kind = MONEY if match.group("yuan") else _kind(unit)
        if unit == "成":
            value *= 10  # 八成 is 80%
        found.append(Quantity(_canonical(value, kind), kind))
    for match in _CN_AMOUNT.finditer(rest):
        cn_value = chinese_number(match.group("num"))
        unit = match.group("unit")
        if cn_value is None:
            continue
        if unit is not None:
            kind = _kind(unit)
        elif match.group("verb") and cn_value > 1:
            kind = MONEY  # 满三百减五十
        else:
            continue  # a numeral in a word: 一起, 万一, 三心二意
        if cn_value == 1 and kind not in (MONEY, DISCOUNT, PERCENT, INSTALMENTS):
            continue  # 一个, 一副, 每一天: a word, not an amount
        if unit == "成":
            cn_value *= 10
        found.append(Quantity(_canonical(cn_value, kind), kind))
    return found


def chinese_number(text: str) -> Decimal | None:
    """The value of a Chinese numeral (``两百`` 200, ``十二`` 12, ``九五`` 95)."""
    if not text:
        return None
    if not any(ch in _CN_UNITS for ch in text):
        digits = [_CN_DIGITS.get(ch) for ch in text]
        if None in digits:
            return None
        return Decimal("".join(str(d) for d in digits))
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch == "万":
            total += (section + digit) * 10000
            section, digit = 0, 0
        else:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return Decimal(total + section + digit)


def _without_days(text: str) -> str:
    return _DATE.sub(" ", text)


def _kind(unit: str | None) -> str:
    if unit is None:
        return PLAIN
    kind = _KIND[unit]
    # Durations keep their unit: 8 小时 and 8 天 are not the same promise.
    return f"{DURATION}:{unit}" if kind == DURATION else kind


def _canonical(value: Decimal, kind: str) -> Decimal:
    if kind == DISCOUNT and value < 10:
        value *= 10  # 9.5折 is 95折, 8折 is 80折
    return value.normalize()


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
