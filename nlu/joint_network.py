"""The joint network (encoder, pooled heads, token head) and where its parts come from.

Building blocks for ``nlu.model``: loading a BERT-family backbone
(optionally only its lower layers) and saved heads, checking a max_length
against the encoder, choosing the device, and mixed precision where the
hardware has it. Torch and transformers only.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, NamedTuple, cast

import torch
from safetensors.torch import load_file
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

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


class Logits(NamedTuple):
    """One forward pass: intent and sentiment per text, entity tags per token."""

    intent: torch.Tensor  # (batch, intents)
    sentiment: torch.Tensor  # (batch, sentiments)
    entity: torch.Tensor | None  # (batch, tokens, tags); None without entity types


class JointNetwork(nn.Module):
    """Encoder; mean pooling into intent and sentiment heads; a token entity head.

    The entity head tags every token (IO tags, see ``nlu.entity_tags``).
    """

    def __init__(
        self,
        encoder: PreTrainedModel,
        intents: int,
        sentiments: int,
        entity_tags: int = 0,
    ):
        super().__init__()
        hidden = int(encoder.config.hidden_size)
        self.encoder = encoder
        self.dropout = nn.Dropout(DROPOUT)
        self.intent_head = nn.Linear(hidden, intents)
        self.sentiment_head = nn.Linear(hidden, sentiments)
        # One tag ("O") means no entity types: no head at all.
        self.entity_head = nn.Linear(hidden, entity_tags) if entity_tags > 1 else None

    def reset_heads(self) -> None:
        """Re-initialises everything but the pretrained encoder."""
        self.intent_head.reset_parameters()
        self.sentiment_head.reset_parameters()
        if self.entity_head is not None:
            self.entity_head.reset_parameters()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Logits:
        """The logits of a tokenised batch."""
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        pooled = self.dropout(pooled)
        entity = (
            self.entity_head(self.dropout(hidden))
            if self.entity_head is not None
            else None
        )
        return Logits(self.intent_head(pooled), self.sentiment_head(pooled), entity)


def load_backbone(
    name: str, layers: int | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Loads encoder and tokenizer from a local directory or a hub id.

    Args:
        name: A local directory (``save_pretrained`` output) or a hub id.
        layers: Keep only the lower ``layers`` transformer layers; None = all.

    Raises:
        ModelLoadError: Neither can be loaded, or the tokenizer cannot pad or
            give character offsets.
        ValueError: The encoder has fewer layers than asked for.
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
    local = is_dir or offline
    try:
        # transformers 4.57.3+ takes every local tokenizer saved by itself for a
        # Mistral one with a broken regex and warns, unless told it is not.
        tokenizer = _load_tokenizer(
            source, local_files_only=local, fix_mistral_regex=False
        )
        config = AutoConfig.from_pretrained(source, local_files_only=local)
        encoder = AutoModel.from_pretrained(
            source, config=config, local_files_only=local, **_no_pooler(config)
        )
    except (OSError, ValueError, KeyError) as e:
        hint = (
            "it needs config.json, model weights and tokenizer files"
            if is_dir
            else "it is no local directory and the Hugging Face hub could not "
            "provide it (offline?); download it with network and pass its path"
        )
        raise ModelLoadError(f"cannot load backbone {name}: {hint}. ({e})") from e
    if layers is not None:
        _keep_lower_layers(encoder, layers, name)
    if tokenizer.pad_token is None or not tokenizer.is_fast:
        raise ModelLoadError(
            f"backbone {name} needs a fast tokenizer with a padding token (entity "
            f"spans come from its character offsets); use a BERT-family encoder "
            f"with a tokenizer.json"
        )
    return encoder, tokenizer


def _keep_lower_layers(encoder: PreTrainedModel, layers: int, name: str) -> None:
    stack = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not isinstance(stack, nn.ModuleList):
        raise ValueError(f"{name} has no BERT-style layer stack to cut")
    if not 1 <= layers <= len(stack):
        raise ValueError(
            f"encoder_layers must be between 1 and {len(stack)} for {name}, "
            f"got {layers}"
        )
    del stack[layers:]
    encoder.config.num_hidden_layers = layers  # saved with the model


def _no_pooler(config: PretrainedConfig) -> dict[str, bool]:
    # BERT-style encoders build a pooler we never use (e5 ships none); leave it
    # out where the class allows, so no random weights are made or saved.
    model_class: Any = AutoModel._model_mapping.get(type(config), None)
    if model_class and "add_pooling_layer" in inspect.signature(model_class).parameters:
        return {"add_pooling_layer": False}
    return {}


def load_heads(network: JointNetwork, path: Path) -> None:
    """Loads the saved heads into `network`; raises ValueError when they differ."""
    result = network.load_state_dict(load_file(path), strict=False)
    missing = [k for k in result.missing_keys if not k.startswith("encoder.")]
    if missing or result.unexpected_keys:
        raise ValueError(
            f"{path.name} does not match the labels: missing {missing}, "
            f"unexpected {result.unexpected_keys}"
        )


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


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, check, lambda: False)()) for check in checks)


def autocast(
    device: torch.device, cpu_bf16: bool = False
) -> AbstractContextManager[object]:
    """Mixed precision: bf16 (else fp16) on CUDA; bf16 on CPU only when asked."""
    if device.type == "cuda":
        bf16 = torch.cuda.is_bf16_supported()
        return torch.autocast("cuda", dtype=torch.bfloat16 if bf16 else torch.float16)
    if cpu_bf16:
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return nullcontext()
