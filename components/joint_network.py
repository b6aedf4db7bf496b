"""The joint network (encoder, mean pooling, two heads) and where its parts come from.

Building blocks for ``components.intent_sentiment_model``: loading a BERT-family
backbone and saved heads, checking a max_length against the encoder, choosing the
device and the autocast dtype there. Torch and transformers only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import cast

import torch
from safetensors.torch import load_file
from torch import nn
from transformers import (
    AutoModel,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from components.char_ngrams import NgramBag, NgramSpec

POOLING = "mean"
DROPOUT = 0.1
# "name" or "owner/name" may be a hub id; anything else can only be a local path.
_HUB_ID = re.compile(r"^\w[\w.-]*(/\w[\w.-]*)?$")
# transformers leaves this untyped; state once what it returns.
_load_tokenizer = cast(
    Callable[..., PreTrainedTokenizerBase], AutoTokenizer.from_pretrained
)


class ModelLoadError(Exception):
    """A backbone or saved model cannot be loaded (message says what to fix)."""


class JointNetwork(nn.Module):
    """Encoder, mean pooling over real tokens, optional n-gram bag, two heads.

    With an `NgramSpec` the heads read the pooled encoder output concatenated with
    the mean of the text's hashed character n-gram embeddings.
    """

    def __init__(
        self,
        encoder: PreTrainedModel,
        intents: int,
        sentiments: int,
        ngrams: NgramSpec | None = None,
    ):
        super().__init__()
        width = int(encoder.config.hidden_size) + (ngrams.dim if ngrams else 0)
        self.encoder = encoder
        self.ngrams = NgramBag(ngrams) if ngrams else None
        self.dropout = nn.Dropout(DROPOUT)
        self.intent_head = nn.Linear(width, intents)
        self.sentiment_head = nn.Linear(width, sentiments)

    @property
    def ngram_spec(self) -> NgramSpec | None:
        """The n-gram table's shape, or None without one."""
        return self.ngrams.spec if self.ngrams is not None else None

    def reset_heads(self) -> None:
        """Re-initialises everything but the pretrained encoder."""
        self.intent_head.reset_parameters()
        self.sentiment_head.reset_parameters()
        if self.ngrams is not None:
            self.ngrams.reset_parameters()

    def inputs(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """The n-gram inputs of `forward` for these texts (empty without a bag)."""
        if self.ngrams is None:
            return {}
        device = next(self.parameters()).device
        ids, offsets = self.ngrams.encode(texts, device)
        return {"ngram_ids": ids, "ngram_offsets": offsets}

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        ngram_ids: torch.Tensor | None = None,
        ngram_offsets: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the intent and sentiment logits of a tokenised batch."""
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        if self.ngrams is not None:
            if ngram_ids is None or ngram_offsets is None:
                raise ValueError("this network needs ngram_ids and ngram_offsets")
            bag = self.ngrams(ngram_ids, ngram_offsets).to(pooled.dtype)
            pooled = torch.cat([pooled, bag], dim=-1)
        pooled = self.dropout(pooled)
        return self.intent_head(pooled), self.sentiment_head(pooled)


def load_backbone(name: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Loads encoder and tokenizer from a local directory or a hub id.

    Raises:
        ModelLoadError: Neither can be loaded, or the tokenizer cannot pad.
    """
    path = Path(name).expanduser()
    is_dir = path.is_dir()
    if not is_dir and not _HUB_ID.match(name):
        raise ModelLoadError(f"backbone directory {name} does not exist")
    # Offline settings are read at import by huggingface_hub; read them again so
    # an offline process fails at once instead of retrying the network.
    offline = any(
        os.environ.get(var, "").upper() in {"1", "ON", "YES", "TRUE"}
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )
    source = str(path) if is_dir else name
    try:
        tokenizer = _load_tokenizer(source, local_files_only=is_dir or offline)
        encoder = AutoModel.from_pretrained(source, local_files_only=is_dir or offline)
    except (OSError, ValueError, KeyError) as e:
        hint = (
            "it needs config.json, model weights and tokenizer files"
            if is_dir
            else "it is no local directory and the Hugging Face hub could not "
            "provide it (offline?); download it with network and pass its path"
        )
        raise ModelLoadError(f"cannot load backbone {name}: {hint}. ({e})") from e
    if tokenizer.pad_token is None:
        raise ModelLoadError(
            f"backbone {name} has no padding token; use a BERT-family encoder"
        )
    return encoder, tokenizer


def load_heads(network: JointNetwork, path: Path) -> None:
    """Loads the saved heads into `network`; raises ValueError when they differ."""
    result = network.load_state_dict(load_file(path), strict=False)
    missing = [k for k in result.missing_keys if not k.startswith("encoder.")]
    if missing or result.unexpected_keys:
        raise ValueError(f"{path.name} does not match the labels: {missing}")


def check_max_length(max_length: int, encoder: PreTrainedModel) -> None:
    """Raises ValueError unless the encoder has positions for `max_length` tokens."""
    limit = getattr(encoder.config, "max_position_embeddings", None)
    if max_length < 2 or (limit is not None and max_length > limit):
        raise ValueError(f"max_length must be between 2 and {limit}, got {max_length}")


def resolve_device(device: str) -> torch.device:
    """Turns "auto", "cpu", "cuda" or "cuda:N" into a usable device (ValueError)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as e:
        raise ValueError(f"unknown device {device!r}; use auto, cpu or cuda[:N]") from e
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available")
    return resolved


def autocast(device: torch.device) -> AbstractContextManager[object]:
    """Mixed precision on CUDA (bf16 where supported, else fp16); none on CPU."""
    if device.type != "cuda":
        return nullcontext()
    bf16 = torch.cuda.is_bf16_supported()
    return torch.autocast("cuda", dtype=torch.bfloat16 if bf16 else torch.float16)
