"""How alike two copies are, and how varied a set of copies is: character bigrams.

Chinese copy has no spaces, so words are not at hand; character bigrams are what
near-duplicate checks and the distinct-2 diversity score (Li et al., 2016,
"A Diversity-Promoting Objective Function for Neural Conversation Models") use
for it. Punctuation, spaces and emoji are left out: two drafts that differ only
in "！" versus "～" are the same copy. Pure standard library.
"""

from __future__ import annotations

from collections.abc import Iterable

# Drafts at least this alike (Jaccard of their bigram sets) are one copy.
NEAR_DUPLICATE = 0.8


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def bigrams(text: str) -> list[str]:
    """The character bigrams of ``text``'s letters, digits and hanzi, in order."""
    letters = _letters(text)
    return [letters[i : i + 2] for i in range(len(letters) - 1)]


def similarity(first: str, second: str) -> float:
    """Jaccard similarity of the two texts' bigram sets (1.0: the same copy)."""
    a, b = set(bigrams(first)), set(bigrams(second))
    if not a and not b:
        return 1.0 if _letters(first) == _letters(second) else 0.0
    return len(a & b) / len(a | b)


def is_near_duplicate(
    text: str, others: Iterable[str], threshold: float = NEAR_DUPLICATE
) -> bool:
    """Whether ``text`` is at least ``threshold`` alike to one of ``others``."""
    return any(similarity(text, other) >= threshold for other in others)


def distinct_2(texts: Iterable[str]) -> float:
    """Distinct bigrams over all bigrams of ``texts`` (0.0 for no bigrams)."""
    seen: set[str] = set()
    total = 0
    for text in texts:
        grams = bigrams(text)
        seen.update(grams)
        total += len(grams)
    return len(seen) / total if total else 0.0
