"""How customers' spellings of catalog names are folded and matched.

Case, width, spaces and hyphens carry no meaning ("X5-Pro", "ｘ５ pro"); a Latin
or digit edge must not be glued to more Latin or digits (``x5`` is not in
``x5pro``). Used by ``catalog.model`` to normalise values NLU extracted and by
``tools.nlu_data`` to check that no spelling means two things.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Protocol

from catalog.errors import CatalogError

# Spaces and hyphen-like marks carry no meaning in names ("X5-Pro", "x5 pro").
IGNORED = re.compile(r"[\s\-‐‑‒–—_]+")


def fold_key(text: str) -> str:
    """Folds ``text`` for matching: NFKC, case-folded, no spaces or hyphens."""
    return IGNORED.sub("", unicodedata.normalize("NFKC", text).casefold())


def _is_ascii_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def form_pattern(key: str) -> re.Pattern[str]:
    """Finds ``key`` in folded text that may still hold spaces or hyphens.

    Latin/digit edges must not be glued to more Latin/digits, so ``x5`` is not found
    inside ``x5pro`` and ``go`` not inside ``google``.
    """
    body = r"[\s\-‐‑‒–—_]*".join(re.escape(char) for char in key)
    before = r"(?<![a-z0-9])" if _is_ascii_word_char(key[0]) else ""
    after = r"(?![a-z0-9])" if _is_ascii_word_char(key[-1]) else ""
    return re.compile(before + body + after)


def fold_text(text: str) -> str:
    """``text`` NFKC-normalised and case-folded, spaces kept."""
    return unicodedata.normalize("NFKC", text).casefold()


class Named(Protocol):
    """A catalog entry customers name: its canonical name and other spellings."""

    @property
    def name(self) -> str:
        """The canonical name."""
        ...

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """The name and every other spelling customers use."""
        ...


def unique_forms(text: Iterable[str]) -> tuple[str, ...]:
    """``text`` without case-insensitive repeats, first spelling kept."""
    seen: dict[str, str] = {}
    for form in text:
        seen.setdefault(form.casefold(), form)
    return tuple(seen.values())


def lookup(text: str, table: Mapping[str, str]) -> str | None:
    """Exact form first, else the longest form contained in ``text``."""
    key = fold_key(text)
    if not key:
        return None
    if key in table:
        return table[key]
    contained = [form for form in table if form in key]
    return table[max(contained, key=len)] if contained else None


def forms_table(kind: str, entries: Iterable[Named]) -> dict[str, str]:
    """Folded name and aliases -> canonical name; a form used twice is an error."""
    table: dict[str, str] = {}
    for entry in entries:
        for form in entry.surface_forms:
            owner = table.setdefault(fold_key(form), entry.name)
            if owner != entry.name:
                raise CatalogError(
                    f"{kind} {entry.name!r}: alias {form!r} is already used by "
                    f"{kind} {owner!r}"
                )
    return table
