from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import AutoModel, AutoTokenizer

from tests.tools.e5_files import Q4_0, quantize_q4_0, tiny_model_tensors, write_e5
from tools.e5_convert import check_tokenizer, convert
from tools.e5_format import E5File, E5FormatError, dequantize_q4_0

PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "你", "好", "<mask>"]
SCORES = [0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -3.0, 0.0]


def _tokenizer_spec(pieces: list[str] = PIECES) -> dict[str, Any]:
    tokenizer = Tokenizer(
        models.Unigram(list(zip(pieces, SCORES, strict=True)), unk_id=3)
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tokenizer.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    spec: dict[str, Any] = json.loads(tokenizer.to_str())
    return spec


@pytest.fixture
def tiny_files(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "tiny.bin"
    write_e5(model, PIECES, SCORES, tiny_model_tensors())
    tokenizer = tmp_path / "tokenizer.json"
    tokenizer.write_text(json.dumps(_tokenizer_spec()), encoding="utf-8")
    return model, tokenizer


def test_q4_0_is_scale_times_nibble_minus_eight() -> None:
    nibbles = np.arange(32) % 16  # weights 0..15, then 0..15 again
    packed = bytes((nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8))
    block = np.float16(0.5).tobytes() + packed
    assert dequantize_q4_0(block, 32).tolist() == ((nibbles - 8) * 0.5).tolist()


def test_q4_0_round_trip_is_close() -> None:
    values = np.random.default_rng(1).normal(0, 1, 64).astype(np.float32)
    restored = dequantize_q4_0(quantize_q4_0(values), 64)
    # Within one quantisation step (amax / 8) of every value.
    assert np.abs(restored - values).max() <= np.abs(values).max() / 8 + 1e-3


def test_reads_header_vocabulary_and_tensors(tiny_files: tuple[Path, Path]) -> None:
    model = E5File.read(tiny_files[0])
    assert (model.header.hidden_size, model.header.num_layers) == (32, 1)
    assert (model.header.num_heads, model.header.intermediate_size) == (2, 64)
    assert model.vocabulary.pieces == tuple(PIECES)
    assert model.vocabulary.scores == tuple(SCORES)
    assert (model.vocabulary.pad, model.vocabulary.unk) == (1, 3)
    assert model.tensor("emb.word", (8, 32)).shape == (8, 32)
    with pytest.raises(E5FormatError, match="holds 256 values"):
        model.tensor("emb.word", (8, 31))
    with pytest.raises(E5FormatError, match=r"no tensor 'l7\.q\.w'"):
        model.tensor("l7.q.w", (32, 32))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"magic": b"GGUF"}, "magic"),
        ({"version": 2}, "version 2"),
    ],
)
def test_other_formats_are_refused(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "m.bin"
    write_e5(path, PIECES, SCORES, tiny_model_tensors(), **change)
    with pytest.raises(E5FormatError, match=message):
        E5File.read(path)


def test_a_truncated_file_is_refused(tiny_files: tuple[Path, Path]) -> None:
    path = tiny_files[0]
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(E5FormatError):
        E5File.read(path)


def test_a_tensor_past_the_end_is_refused(tmp_path: Path) -> None:
    tensors = tiny_model_tensors()
    dtype, raw, count = tensors["emb.word"]
    tensors["emb.word"] = (dtype, raw, count)
    path = tmp_path / "m.bin"
    write_e5(path, PIECES, SCORES, tensors)
    data = bytearray(path.read_bytes())
    name = b"emb.word" + bytes([Q4_0])
    at = data.index(name) + len(name) + 4 + 8  # count, offset, then nbytes
    data[at : at + 8] = struct.pack("<Q", 10**9)
    path.write_bytes(bytes(data))
    with pytest.raises(E5FormatError, match="past the end"):
        E5File.read(path)


def test_converts_into_a_folder_transformers_loads(
    tiny_files: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "converted"
    convert(*tiny_files, out)
    encoder = AutoModel.from_pretrained(
        out, local_files_only=True, add_pooling_layer=False
    )
    tokenizer = cast(Any, AutoTokenizer).from_pretrained(out, local_files_only=True)
    model = E5File.read(tiny_files[0])
    weights = encoder.state_dict()
    expected = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word", (8, 32)),
        "encoder.layer.0.intermediate.dense.weight": model.tensor("l0.fi.w", (64, 32)),
        "encoder.layer.0.output.dense.weight": model.tensor("l0.fo.w", (32, 64)),
        "encoder.layer.0.attention.output.LayerNorm.bias": model.tensor(
            "l0.aln.b", (32,)
        ),
    }
    for name, values in expected.items():
        assert torch.equal(weights[name], torch.from_numpy(values)), name
    assert set(load_file(out / "model.safetensors")) == set(weights)  # no pooler
    assert tokenizer.is_fast and tokenizer.pad_token_id == 1
    assert tokenizer("你好")["input_ids"] == [0, 4, 5, 6, 2]


def test_a_tokenizer_with_other_pieces_is_refused(
    tiny_files: tuple[Path, Path],
) -> None:
    other = _tokenizer_spec([*PIECES[:5], "他", *PIECES[6:]])
    with pytest.raises(E5FormatError, match=r"1 tokenizer pieces differ.*id 5"):
        check_tokenizer(E5File.read(tiny_files[0]), other)
