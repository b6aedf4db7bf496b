"""Budgets customers type ("3000以内", "两三千", "1.5万") read as an amount in CNY.

A small table-driven reader for Arabic and Chinese numerals; no dependencies. It
errs on the side of ``None``: numbers that are model names (``X5``, ``Nova 12``),
specs (``5000mAh``, ``6.7寸``), dates, counts or phone numbers are not budgets.
"""

from __future__ import annotations

import math
import re
import unicodedata

MAX_BUDGET = 1_000_000.0

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_SECTIONS = {"万": 10_000, "亿": 100_000_000}

# A numeral starts with a digit or 十 ("十五"), never with 万/千 ("万一", "千万别").
_NUMERAL = re.compile(
    r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十])"
    r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万亿])*"
)
_NUMBER_OR_CHAR = re.compile(r"\d+(?:\.\d+)?|.")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# Dates and times are never amounts ("2026-12-01", "10:30").
_DATE_OR_TIME = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}:\d{2}")
# "3k" / "1.5w" slang; W stays a watt in "65W" (more than 10 "万" is not a budget
# anyone types) and K stays a resolution in "2K屏".
_SLANG_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*([kKwW])(?![A-Za-z])")
_NOT_THOUSANDS_AFTER_K = ("屏", "分辨率", "高刷", "视频", "画质", "显示")
# Traditional forms WeChat users in HK/TW type ("兩千塊") read like simplified ones.
_TRADITIONAL = str.maketrans("兩萬億塊圓貳", "两万亿块圆二")

_CURRENCY_AFTER = ("块钱", "元", "圆", "rmb", "yuan", "cny")
_WEAK_CURRENCY_AFTER = ("块", "米")  # 块 is also a measure word: "一块手表"
_CURRENCY_BEFORE = ("¥", "预算", "价位", "价格")
# Words after a number that make it a count, a size, a spec or a date.
_NOT_MONEY_AFTER = (
    "英寸",
    "寸",
    "代",
    "号",
    "月",
    "日",
    "年",
    "天",
    "周",
    "星期",
    "小时",
    "分",
    "秒",
    "个",
    "台",
    "件",
    "只",
    "款",
    "部",
    "毫安",
    "瓦",
    "倍",
    "%",
    "度",
    "岁",
    "折",
    "期",
    "次",
    "人",
    "位",
    "条",
    "张",
    "克",
    "斤",
    "核",
    "层",
    "楼",
    "点",
    "名",
    "种",
    "色",
    "支",
    "套",
    "对",
    "副",
    "集",
    "步",
    "级",
    "兆",
    "赫兹",
    "帧",
    "像素",
    "毫米",
    "厘米",
    "公里",
)
_MONEY_AFTER_ANYWAY = ("分期",)  # "3000分期" is an amount despite 分
_NOT_MONEY_BEFORE = ("双", "第", "+", "#", "No.", "no.")
_NUMERAL_CHARS = "0123456789零〇一二两三四五六七八九十百千万亿"
_MIN_BARE_AMOUNT = 10.0
_WINDOW = 12  # characters around a numeral that decide what it is


def _numeral_value(numeral: str) -> float | None:
    """Reads a numeral such as ``三千五``, ``1.5万``, ``两三千`` or ``2000``.

    Two digits in a row are a range ("两三千" = 2000-3000) and read as the larger.
    A trailing digit after a unit is one unit lower: ``三千五`` = 3500.
    """
    total = section = 0.0
    digit: float | None = None
    last_unit: float | None = None
    zero_seen = False
    for token in _NUMBER_OR_CHAR.findall(numeral):
        if token in _UNITS or token in _SECTIONS:
            unit = _UNITS.get(token) or _SECTIONS[token]
            if token in _UNITS:
                section += (1 if digit is None else digit) * unit
            elif token == "万":
                total, section = total + (section + (digit or 0)) * unit, 0.0
            else:
                total, section = (total + section + (digit or 0)) * unit, 0.0
            digit, last_unit, zero_seen = None, unit, False
            continue
        value = float(token) if token[0].isdigit() else float(_DIGITS[token])
        if value == 0 and not token[0].isdigit():
            zero_seen = True
            continue
        if digit is not None:
            if token[0].isdigit() or not 0 < digit < 10 or value < 1:
                return None
            value = max(digit, value)
        digit = value
    if digit is not None:
        if last_unit is not None and not zero_seen and digit < 10:
            digit *= last_unit / 10
        section += digit
    return total + section


def _starts_with(text: str, words: tuple[str, ...]) -> bool:
    return text.lstrip().lower().startswith(words)


def _ends_with(text: str, words: tuple[str, ...]) -> bool:
    return text.rstrip().endswith(words)


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _candidate(text: str, start: int, end: int) -> float | None:
    """Returns the amount of the numeral ``text[start:end]`` if it is a budget."""
    numeral = text[start:end]
    if len(numeral) > 20:
        return None  # digit runs like this are ids or noise, never a budget
    before = text[max(0, start - _WINDOW) : start].rstrip()
    after = text[end : end + _WINDOW].lstrip()
    if _is_latin(before[-1:]) or _ends_with(before, _NOT_MONEY_BEFORE):
        return None  # model names and events: "X5", "Nova 12", "双12", "第2件"
    if before.endswith("-"):
        previous = before[:-1].rstrip()[-1:]
        if not previous or previous not in _NUMERAL_CHARS:
            return None  # a minus sign, not a range such as "2000-3000"
    if _starts_with(after, _NOT_MONEY_AFTER) and not after.startswith(
        _MONEY_AFTER_ANYWAY
    ):
        return None
    currency = _starts_with(after, _CURRENCY_AFTER) or before.endswith(_CURRENCY_BEFORE)
    if not currency and _is_latin(after[:1]):
        return None  # specs: "5000mAh", "256GB", "5G"
    value = _numeral_value(numeral)
    if value is None or not math.isfinite(value) or value <= 0 or value > MAX_BUDGET:
        return None
    if value < _MIN_BARE_AMOUNT and not currency:
        return None  # "一块手表", "买2台", "推荐一下"
    magnitude = any(ch in numeral for ch in "十百千万亿")
    weak_currency = _starts_with(after, _WEAK_CURRENCY_AFTER)
    if not (currency or weak_currency or magnitude or numeral[0].isdigit()):
        return None  # a lone Chinese digit: "五星好评"
    return value


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    text = text.translate(_TRADITIONAL)
    text = _DATE_OR_TIME.sub(" ", text)
    text = _THOUSANDS.sub("", text)

    def slang(match: re.Match[str]) -> str:
        number, unit = match.group(1), match.group(2).lower()
        following = match.string[match.end() : match.end() + _WINDOW]
        if unit == "k" and not following.startswith(_NOT_THOUSANDS_AFTER_K):
            return f"{number}千"
        if unit == "w" and float(number) <= 10 and not following.startswith("充"):
            return f"{number}万"
        return match.group(0)

    return _SLANG_UNIT.sub(slang, text)


def parse_budget(text: str) -> float | None:
    """Reads the most a customer means to spend, in CNY.

    Understands Arabic and Chinese numerals with units and slang ("3000元",
    "3k", "两千块", "三千五", "1.5万", "一万五", "¥1999"), and ranges
    ("两三千", "2000-3000", "两千到三千"), whose upper end is returned.

    Args:
        text: An entity value or a whole message.

    Returns:
        The largest amount found, or ``None`` when the text holds no amount, or
        only zero, negative or absurd (> 1,000,000) ones.
    """
    prepared = _prepare(text)
    amounts = [
        amount
        for match in _NUMERAL.finditer(prepared)
        if (amount := _candidate(prepared, match.start(), match.end())) is not None
    ]
    return max(amounts, default=None)


def format_price(value: float) -> str:
    """Formats an amount in CNY: ``2999`` -> ``¥2,999``, ``49.5`` -> ``¥49.50``.

    Args:
        value: The amount in CNY.

    Returns:
        The amount with a yen sign and thousands separators, without decimals when
        it is a whole number.
    """
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if math.isclose(amount, round(amount), abs_tol=0.005):
        return f"{sign}¥{round(amount):,}"
    return f"{sign}¥{amount:,.2f}"
