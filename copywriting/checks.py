"""The checks every draft passes before a marketer may approve it.

- ``ad_law``: no absolute claim the Advertising Law forbids
  (:func:`copywriting.compliance.banned_claims`); the failure suggests the
  filter's rewrite.
- ``facts``: every number, price, discount, date, time and product name in the
  draft is in the brief (:class:`copywriting.brief.CopyBrief`): a model that
  invents "原价 899" or a "12月20日" deadline fails, so does one that names a
  product the brief is not about.
- ``length``: 30 to 120 characters, what a WeChat push reads at a glance.
- ``size``: the message as sent (with the link and opt-out line) fits WeChat's
  2048 bytes.

Near-duplicates are not a check on one draft but on a batch
(:mod:`copywriting.similarity`); :mod:`copywriting.drafting` drops them. Pure
Python over the catalog; no Rasa.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from catalog.model import Catalog
from copywriting.brief import CopyBrief
from copywriting.compliance import MAX_BYTES, banned_claims, remove_banned_claims
from marketing.approved_copy import message_text
from marketing.copy_drafts import CheckFailure

AD_LAW, FACTS, LENGTH, SIZE = "ad_law", "facts", "length", "size"
CHECKS = (AD_LAW, FACTS, LENGTH, SIZE)
MIN_CHARS, MAX_CHARS = 30, 120
# The longest tracked link a message carries (base URL and tracking id).
LINK_BYTES = 200

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
# A month and day: 12月12日, 12月12号, 12/12 or 12.12 (not 9.5折, not 1.5元).
_DATE = re.compile(
    r"(?<![\d.])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
    r"|(?<![\d./])(\d{1,2})[/.](\d{1,2})(?![\d./]|\s*[折元块倍%％万])"
)
_TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)")
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
# Chinese numerals that count something: 五折, 两百元, 十二期, 三天.
_CN_NUMBER = re.compile(
    r"([零〇一二两三四五六七八九十百千万]+)(?=\s*[元块折件期天小时个张台位倍%％份副])"
)


class DraftChecker:
    """Checks drafts against their brief and the catalog.

    Args:
        catalog: Knows every product name and alias (to find the ones a draft
            names).
        link_bytes: Room kept for the tracked link in the size check.
    """

    def __init__(self, catalog: Catalog, link_bytes: int = LINK_BYTES) -> None:
        self.catalog = catalog
        self.link_bytes = link_bytes

    def check(self, text: str, brief: CopyBrief) -> tuple[CheckFailure, ...]:
        """Every check ``text`` fails, in :data:`CHECKS` order (empty: it passes)."""
        failures = []
        claims = banned_claims(text)
        if claims:
            failures.append(
                CheckFailure(
                    AD_LAW,
                    f"absolute claims {'、'.join(claims)}; "
                    f"suggested: {remove_banned_claims(text)}",
                )
            )
        failures += self._facts(text, brief)
        length = len(text.strip())
        if not MIN_CHARS <= length <= MAX_CHARS:
            failures.append(
                CheckFailure(
                    LENGTH, f"{length} characters; write {MIN_CHARS}-{MAX_CHARS}"
                )
            )
        sent = message_text(text, "x" * self.link_bytes)
        size = len(sent.encode("utf-8"))
        if size > MAX_BYTES:
            failures.append(
                CheckFailure(
                    SIZE, f"{size} bytes with link and opt-out; limit {MAX_BYTES}"
                )
            )
        return tuple(failures)

    def _facts(self, text: str, brief: CopyBrief) -> list[CheckFailure]:
        failures = []
        source = brief.text
        # "X5" names a product: its 5 is no number of the offer.
        stated = numbers_in(self.catalog.without_product_names(source))
        counted = numbers_in(self.catalog.without_product_names(text))
        invented = [n for n in counted if n not in stated]
        if invented:
            listed = "、".join(_shown(n) for n in dict.fromkeys(invented))
            failures.append(CheckFailure(FACTS, f"numbers not in the brief: {listed}"))
        dates = [d for d in dates_in(text) if d not in dates_in(source)]
        if dates:
            listed = "、".join(f"{m}月{d}日" for m, d in dict.fromkeys(dates))
            failures.append(CheckFailure(FACTS, f"dates not in the brief: {listed}"))
        times = [t for t in times_in(text) if t not in times_in(source)]
        if times:
            listed = "、".join(f"{h}:{m:02d}" for h, m in dict.fromkeys(times))
            failures.append(CheckFailure(FACTS, f"times not in the brief: {listed}"))
        allowed = {p.id for p in self.catalog.products_mentioned(source)}
        others = [
            p.name
            for p in self.catalog.products_mentioned(text)
            if p.id not in allowed and p.id != brief.subject
        ]
        if others:
            failures.append(
                CheckFailure(
                    FACTS, f"products the brief is not about: {'、'.join(others)}"
                )
            )
        return failures


def dates_in(text: str) -> list[tuple[int, int]]:
    """Every (month, day) ``text`` states."""
    found = []
    for match in _DATE.finditer(text):
        month, day = (int(g) for g in match.groups() if g is not None)
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.append((month, day))
    return found


def times_in(text: str) -> list[tuple[int, int]]:
    """Every clock time (hour, minute) ``text`` states."""
    return [(int(h), int(m)) for h, m in _TIME.findall(text)]


def numbers_in(text: str) -> list[Decimal]:
    """Every number ``text`` states outside its dates and times.

    Arabic numbers (``1,299``, ``9.5``) and counted Chinese numerals (``五折``,
    ``两百元``) alike; ``九五折`` reads 95 as a discount is written.
    """
    rest = _TIME.sub(" ", _DATE.sub(" ", text))
    found = [_decimal(n.replace(",", "")) for n in _NUMBER.findall(rest)]
    found += [chinese_number(n) for n in _CN_NUMBER.findall(rest)]
    return [n for n in found if n is not None]


def chinese_number(text: str) -> Decimal | None:
    """The value of a Chinese numeral (``两百`` 200, ``十二`` 12, ``九五`` 95)."""
    if not any(ch in _CN_UNITS for ch in text):
        digits = [_CN_DIGITS.get(ch) for ch in text]
        if None in digits or not digits:
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


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text).normalize()
    except InvalidOperation:
        return None


def _shown(number: Decimal) -> str:
    return f"{number:f}"
