"""Contact details customers type: mainland mobile numbers and how to address them.

Pure functions, no Rasa imports, so the form validation and any later lead store
agree on what a valid number is and how it is shown in logs.
"""

from __future__ import annotations

import re

# Mainland mobile numbers: 11 digits starting 13-19. Customers add +86/0086, spaces
# or dashes ("138 1234 5678", "+86-139-0000-1234"); those are stripped first.
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_SEPARATORS = re.compile(r"[\s\-()（）]+")
_COUNTRY_CODE = re.compile(r"(?:\+|00)86")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋", "0123456789+")

# Phrases around a name ("我姓王", "叫我小李就行"), stripped to keep the name.
_NAME_PREFIXES = (
    "您可以叫我",
    "你可以叫我",
    "可以叫我",
    "我的名字是",
    "我叫",
    "叫我",
    "我是",
    "本人",
    "我姓",
    "姓",
)
_NAME_SUFFIXES = (
    "就行了",
    "就可以了",
    "就行",
    "就好",
    "就可以",
    "吧",
    "哈",
    "呀",
    "啊",
)
_NAME_BREAKS = re.compile(r"[,，.。!！~～、:：;；\"'“”‘’\n]+")
_TYPED_MOBILE = re.compile(r"(?:(?:\+|00)86[\s-]*)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}")
MAX_NAME_LENGTH = 12


def parse_mobile(text: str) -> str | None:
    """Returns the first mainland mobile number in ``text`` as 11 digits.

    Args:
        text: Free text from the customer, possibly with separators or +86.

    Returns:
        The number as 11 plain digits, or ``None`` when there is none.
    """
    compact = _SEPARATORS.sub("", text.translate(_FULL_WIDTH_DIGITS))
    compact = _COUNTRY_CODE.sub("", compact)
    match = _MOBILE.search(compact)
    return match.group(0) if match else None


def mask_mobile(number: str) -> str:
    """Masks a phone number for logs: ``13812345678`` -> ``138****5678``.

    Args:
        number: The number to mask; anything that is not 11 digits is fully masked.

    Returns:
        The masked number.
    """
    digits = re.sub(r"\D", "", number)
    if len(digits) != 11:
        return "*" * len(digits) if digits else "***"
    return f"{digits[:3]}****{digits[-4:]}"


_MASKED_MOBILE = re.compile(r"1\d{2}\*{4}\d{4}")


def is_masked_mobile(text: str) -> bool:
    """Whether ``text`` is a number as :func:`mask_mobile` shows it (138****5678)."""
    return _MASKED_MOBILE.fullmatch(text.strip()) is not None


def clean_contact_name(text: str) -> str | None:
    """Extracts how to address the customer from a reply such as ``我姓王``.

    Args:
        text: The customer's reply to "怎么称呼您".

    Returns:
        The cleaned name (``王``, ``小李``, ``Amy``), or ``None`` when the reply does
        not look like a name (empty, too long, digits only, a question).
    """
    # The name is the first phrase once any number is taken out: "我叫张伟，电话…".
    without_number = _TYPED_MOBILE.sub("，", text.translate(_FULL_WIDTH_DIGITS))
    phrases = (p.strip() for p in _NAME_BREAKS.split(without_number))
    name = next((p for p in phrases if p), "")
    for prefix in _NAME_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :].strip()
            break
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)].strip()
            break
    if not name or len(name) > MAX_NAME_LENGTH:
        return None
    if any(ch.isdigit() for ch in name) or any(ch in name for ch in "?？吗"):
        return None
    return name
