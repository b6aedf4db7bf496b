"""Trims a SentencePiece-unigram encoder to the pieces our texts use.

multilingual-e5-small spends 96M of its 118M parameters on a 250k-piece
vocabulary for a hundred languages. We keep:

- every piece the original tokenizer produces on our Chinese text (reviews,
  People's Daily, the NLU data, the catalog), so that text tokenises exactly as
  before and gets exactly the same embeddings;
- every single-character piece, so any other text still tokenises into known
  pieces wherever the full vocabulary had a piece for the character (unigram
  Viterbi falls back to characters), and the lowest piece score, which sets the
  unknown-character penalty, stays the same;
- the special tokens.

The kept pieces keep their scores and relative order; embedding rows follow.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
_BATCH = 4096


def kept_ids(tokenizer: Tokenizer, texts: Iterable[str]) -> list[int]:
    """Sorted ids of the pieces to keep (see the module docstring)."""
    vocab = tokenizer.get_vocab()
    kept = {i for piece, i in vocab.items() if len(piece) == 1}
    kept.update(tokenizer.get_added_tokens_decoder())
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == _BATCH:
            kept.update(_used(tokenizer, batch))
            batch = []
    kept.update(_used(tokenizer, batch))
    return sorted(kept)


def trimmed_tokenizer(spec: dict[str, Any], kept: list[int]) -> dict[str, Any]:
    """A ``tokenizer.json`` spec holding only the ``kept`` pieces, renumbered.

    Raises:
        ValueError: The spec is not a unigram model, or a special token or the
            unknown piece is not kept.
    """
    model = spec.get("model", {})
    if model.get("type") != "Unigram":
        raise ValueError("only SentencePiece unigram tokenizers can be trimmed")
    new_id = {old: new for new, old in enumerate(kept)}
    trimmed = copy.deepcopy(spec)
    trimmed["model"]["vocab"] = [model["vocab"][old] for old in kept]
    if model.get("unk_id") is not None:
        trimmed["model"]["unk_id"] = _renumber(new_id, model["unk_id"], "<unk>")
    for token in trimmed.get("added_tokens", []):
        token["id"] = _renumber(new_id, token["id"], token["content"])
    processor = trimmed.get("post_processor") or {}
    for special in processor.get("special_tokens", {}).values():
        special["ids"] = [_renumber(new_id, i, special["id"]) for i in special["ids"]]
    return trimmed


def trim(source: Path, out: Path, texts: Iterable[str]) -> int:
    """Writes a trimmed copy of the model folder ``source`` into ``out``.

    ``source`` holds ``config.json``, ``model.safetensors`` and ``tokenizer.json``
    (as ``tools.e5_convert`` writes them).

    Returns:
        The number of pieces kept.
    """
    from transformers import AutoConfig, XLMRobertaTokenizerFast

    spec = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    kept = kept_ids(Tokenizer.from_str(json.dumps(spec)), texts)
    out.mkdir(parents=True, exist_ok=True)

    tensors = load_file(str(source / "model.safetensors"))
    index = torch.tensor(kept, dtype=torch.long)
    tensors[WORD_EMBEDDINGS] = tensors[WORD_EMBEDDINGS][index].contiguous()
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})

    config = AutoConfig.from_pretrained(str(source), local_files_only=True)
    new_id = {old: new for new, old in enumerate(kept)}
    config.vocab_size = len(kept)
    for key in ("pad_token_id", "bos_token_id", "eos_token_id"):
        old = getattr(config, key, None)
        if old is not None:
            setattr(config, key, _renumber(new_id, old, key))
    config.save_pretrained(str(out))

    raw = out / "tokenizer.json"
    raw.write_text(
        json.dumps(trimmed_tokenizer(spec, kept), ensure_ascii=False), encoding="utf-8"
    )
    tokenizer = XLMRobertaTokenizerFast(tokenizer_file=str(raw))  # type: ignore[no-untyped-call]
    tokenizer.model_max_length = config.max_position_embeddings
    tokenizer.save_pretrained(str(out))
    return len(kept)


def _used(tokenizer: Tokenizer, texts: list[str]) -> set[int]:
    used: set[int] = set()
    for encoding in tokenizer.encode_batch(texts, add_special_tokens=False):
        used.update(encoding.ids)
    return used


def _renumber(new_id: dict[int, int], old: int, what: str) -> int:
    if old not in new_id:
        raise ValueError(f"{what} (id {old}) would be trimmed away")
    return new_id[old]
