"""Hashed character n-grams: the lexical side input of the joint network's heads.

A small pretrained encoder misses what a bag of character n-grams catches at once:
product names, model numbers, typos and set phrases. The heads therefore read the
encoder's pooled vector next to the mean of learned n-gram embeddings (the
"wide and deep" pattern, as fastText does for the wide part). Hashing keeps the
table a fixed size with no vocabulary to save, and CRC32 makes the buckets the
same in every process and on every machine. Torch only.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

# Texts longer than this are cut before n-grams are taken (NLU reads 1,000 chars).
MAX_CHARACTERS = 512
BOUNDARY = "\x02"  # marks the start and end of a text, so "好" alone differs


@dataclass(frozen=True)
class NgramSpec:
    """Shape of the n-gram table: bucket count, embedding size, n-gram lengths."""

    buckets: int = 65536
    dim: int = 64
    min_n: int = 1
    max_n: int = 3

    def __post_init__(self) -> None:
        if self.buckets < 1 or self.dim < 1 or not 1 <= self.min_n <= self.max_n:
            raise ValueError(f"invalid n-gram spec {self}")

    def to_dict(self) -> dict[str, int]:
        """A JSON-ready copy, stored next to the saved heads."""
        return asdict(self)


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, whitespace runs to one space."""
    folded = unicodedata.normalize("NFKC", text[:MAX_CHARACTERS]).lower()
    return " ".join(folded.split())


def ngram_buckets(text: str, spec: NgramSpec) -> list[int]:
    """Bucket ids of every n-gram of the normalised text, boundaries included."""
    padded = f"{BOUNDARY}{normalise(text)}{BOUNDARY}"
    ids = []
    for n in range(spec.min_n, spec.max_n + 1):
        for start in range(len(padded) - n + 1):
            gram = padded[start : start + n]
            if gram != BOUNDARY:
                ids.append(zlib.crc32(gram.encode("utf-8")) % spec.buckets)
    return ids


class NgramBag(nn.Module):
    """Mean of the n-gram embeddings of each text."""

    def __init__(self, spec: NgramSpec):
        super().__init__()
        self.spec = spec
        self.bag = nn.EmbeddingBag(spec.buckets, spec.dim, mode="mean")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Small uniform values, as fastText initialises its input vectors."""
        bound = 1.0 / self.spec.dim
        nn.init.uniform_(self.bag.weight, -bound, bound)

    def encode(
        self, texts: Sequence[str], device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat bucket ids and per-text offsets, the inputs of `forward`."""
        flat: list[int] = []
        offsets: list[int] = []
        for text in texts:
            offsets.append(len(flat))
            flat.extend(ngram_buckets(text, self.spec))
        return (
            torch.tensor(flat, dtype=torch.long, device=device),
            torch.tensor(offsets, dtype=torch.long, device=device),
        )

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """One `dim`-sized vector per text (zeros for a text with no n-gram)."""
        vectors: torch.Tensor = self.bag(ids, offsets)
        return vectors
