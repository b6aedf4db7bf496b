"""The checks every draft passes before a marketer may approve it.

- ``ad_law``: no absolute claim the Advertising Law forbids
  (:func:`copywriting.compliance.banned_claims`); the failure suggests the
  filter's rewrite.
- ``facts``: every amount in the draft is one the brief states, with the same
  unit (:mod:`copywriting.quantities`: "8 折" is not the brief's "8 小时"; money
  may also be the difference of two of the brief's prices, "直降 200 元"), and
  so is every day, clock time, product name and offer in words
  (:mod:`copywriting.offer_terms`: 包邮, 买一送一, 截止...). A model that invents
  "原价 899", a "12月20日" deadline or free shipping fails.
- ``format``: copy only: no link or opt-out line (the send adds both), no HTML
  or markdown, no preamble ("好的，以下是…"), explanation or numbered options.
- ``length``: 30 to 120 characters, what a WeChat push reads at a glance.
- ``size``: the message as sent (with the link and opt-out line) fits WeChat's
  2048 bytes.

Near-duplicates are not a check on one draft but on a batch
(:mod:`copywriting.similarity`); :mod:`copywriting.drafting` drops them. Pure
Python over the catalog; no Rasa.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from itertools import permutations
from typing import TypeVar

from catalog.model import Catalog
from copywriting.brief import CopyBrief
from copywriting.compliance import MAX_BYTES, banned_claims, remove_banned_claims
from copywriting.offer_terms import offers_in, offers_stated
from copywriting.quantities import (
    MONEY,
    PLAIN,
    Quantity,
    days_in,
    quantities_in,
    times_in,
)
from marketing.approved_copy import message_text
from marketing.copy_drafts import CheckFailure

AD_LAW, FACTS, FORMAT, LENGTH, SIZE = "ad_law", "facts", "format", "length", "size"
CHECKS = (AD_LAW, FACTS, FORMAT, LENGTH, SIZE)
MIN_CHARS, MAX_CHARS = 30, 120
# The longest tracked link a message carries (base URL and tracking id).
LINK_BYTES = 200
MAX_LINES = 3
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# Chinese characters a copy has at least (the rest may be names, digits, emoji).
MIN_HANZI = 10
T = TypeVar("T")

# What copy must not carry, each with what the failure says.
_NOT_COPY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"https?://|www\.|\.(?:com|cn|net|org)\b", re.I), "a link"),
    (re.compile(r"退订|回复\s*td\b", re.I), "an opt-out line"),
    (re.compile(r"<[a-z/!][^>]*>", re.I), "HTML"),
    (re.compile(r"\*\*|```|^\s*#{1,6}\s|^\s*[-*•]\s", re.M), "markdown"),
    (
        re.compile(
            r"^\s*(?:好的|当然|以下是|下面是|这是一|这段文案|以上|希望|注[:：]|说明[:：]"
            r"|标题[:：]|正文[:：]|文案\s*[一二三四五\d]\s*[:：]|copy\s*:)",
            re.M | re.I,
        ),
        "a preamble or explanation",
    ),
    (re.compile(r"^\s*(?:\d+|[一二三四五])\s*[.、)）]\s*\S", re.M), "numbered options"),
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
        found = [what for pattern, what in _NOT_COPY if pattern.search(text)]
        if not _mostly_chinese(text):
            found.append("not Chinese")
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > MAX_LINES:
            found.append(f"{len(lines)} lines")
        if found:
            failures.append(CheckFailure(FORMAT, f"not copy: {', '.join(found)}"))
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
        source = brief.text
        found = [
            _invented_amounts(
                self.catalog.without_product_names(text),
                self.catalog.without_product_names(source),
            ),
            _listed(
                "dates",
                [(d.month, d.day) for d in days_in(text)],
                {(d.month, d.day) for d in days_in(source)},
                lambda d: f"{d[0]}月{d[1]}日",
            ),
            _listed(
                "times",
                times_in(text),
                set(times_in(source)),
                lambda t: f"{t[0]}:{t[1]:02d}",
            ),
            _listed("offers", offers_in(text), offers_stated(source), lambda o: o),
            self._other_products(text, brief),
        ]
        return [CheckFailure(FACTS, detail) for detail in found if detail]

    def _other_products(self, text: str, brief: CopyBrief) -> str:
        allowed = {p.id for p in self.catalog.products_mentioned(brief.text)}
        allowed.add(brief.subject)
        return _listed(
            "products",
            [p.name for p in self.catalog.products_mentioned(text)],
            {p.name for p in self.catalog.products if p.id in allowed},
            lambda name: name,
            what="the brief is not about",
        )


def _invented_amounts(text: str, source: str) -> str:
    """The draft's amounts the brief does not state ('' when none)."""
    stated = quantities_in(source)
    allowed = set(stated) | _savings(source)
    values = {q.value for q in stated}
    # A bare number of the brief ("积分 ×2") may be said with a unit ("2 倍").
    bare = {q.value for q in stated if q.kind == PLAIN}
    invented = [
        q
        for q in quantities_in(text)
        if q not in allowed
        and q.value not in bare
        and not (q.kind == PLAIN and q.value in values)
    ]
    return _listed("amounts", invented, set(), _shown)


def _listed(
    kind: str,
    found: Sequence[T],
    known: Collection[T],
    shown: Callable[[T], str],
    what: str = "not in the brief",
) -> str:
    """'<kind> <what>: a、b' for what ``found`` has beyond ``known`` ('' if nothing)."""
    extra = [item for item in dict.fromkeys(found) if item not in known]
    return f"{kind} {what}: {'、'.join(shown(i) for i in extra)}" if extra else ""


def _mostly_chinese(text: str) -> bool:
    # Words, not letters: "极光 Buds Pro 2 上新" is Chinese with a Latin name;
    # a row of emoji is no copy at all.
    hanzi = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return hanzi >= max(MIN_HANZI, len(_LATIN_WORD.findall(text)))


def _savings(source: str) -> set[Quantity]:
    """What a price and its original price imply: "直降 200 元" of 999 (原价 1199).

    Only within a line that states an original price: the difference of any two
    amounts of a brief (999 - 100 of a coupon) is no saving anyone offered.
    """
    savings = set()
    for line in source.splitlines():
        if "原价" not in line:
            continue
        money = {q.value for q in quantities_in(line) if q.kind == MONEY}
        savings |= {
            Quantity((high - low).normalize(), MONEY)
            for high, low in permutations(money, 2)
            if high > low
        }
    return savings


def _shown(quantity: Quantity) -> str:
    value = f"{quantity.value:f}"
    unit = quantity.kind.split(":")[-1]
    return value if quantity.kind == PLAIN else f"{value} ({unit})"
