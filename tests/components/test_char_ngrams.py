from __future__ import annotations

import pytest
import torch

from components.char_ngrams import (
    MAX_CHARACTERS,
    NgramBag,
    NgramSpec,
    ngram_buckets,
    normalise,
)

SMALL = NgramSpec(buckets=97, dim=4, min_n=1, max_n=3)


def test_normalise_folds_width_case_and_spaces() -> None:
    assert normalise("ＡＢＣ１２３  Ｘ\t手机") == "abc123 x 手机"
    assert len(normalise("好" * 10_000)) == MAX_CHARACTERS


def test_buckets_count_every_ngram_with_boundaries() -> None:
    # "好吗" padded is ^好吗$: unigrams 好 吗, bigrams ^好 好吗 吗$,
    # trigrams ^好吗 好吗$.
    assert len(ngram_buckets("好吗", SMALL)) == 2 + 3 + 2
    assert all(0 <= bucket < SMALL.buckets for bucket in ngram_buckets("好吗", SMALL))


def test_buckets_are_stable_across_processes() -> None:
    # CRC32, not Python's salted hash(): these values must never change, or
    # every saved model would read different buckets.
    assert ngram_buckets("手机", NgramSpec(buckets=1_000_003, max_n=1)) == [
        ngram_buckets("手", NgramSpec(buckets=1_000_003, max_n=1))[0],
        ngram_buckets("机", NgramSpec(buckets=1_000_003, max_n=1))[0],
    ]
    assert ngram_buckets("a", NgramSpec(buckets=2**32, max_n=1)) == [3904355907]


def test_equivalent_spellings_share_buckets() -> None:
    assert ngram_buckets("ＰＲＯ  Max", SMALL) == ngram_buckets("pro max", SMALL)


@pytest.mark.parametrize("text", ["", "   ", "😀", "\u200b"])
def test_odd_texts_still_have_ngrams(text: str) -> None:
    assert ngram_buckets(text, SMALL)


@pytest.mark.parametrize(
    "kwargs",
    [{"buckets": 0}, {"dim": 0}, {"min_n": 0}, {"min_n": 3, "max_n": 2}],
)
def test_invalid_specs_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        NgramSpec(**kwargs)


def test_bag_averages_the_embeddings_of_each_text() -> None:
    bag = NgramBag(SMALL)
    ids, offsets = bag.encode(["好吗", "你好"], torch.device("cpu"))

    vectors = bag(ids, offsets)

    expected = bag.bag.weight[ngram_buckets("好吗", SMALL)].mean(dim=0)
    assert vectors.shape == (2, SMALL.dim)
    assert torch.allclose(vectors[0], expected, atol=1e-5)
    assert offsets.tolist() == [0, len(ngram_buckets("好吗", SMALL))]
    assert float(bag.bag.weight.detach().abs().max()) <= 1.0 / SMALL.dim
