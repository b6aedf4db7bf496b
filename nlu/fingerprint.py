"""Content digests for ``BertIntentSentimentClassifier.fingerprint_addon``.

Rasa fingerprints only a component's config and class source; these digests add
what else decides the trained model (the backbone's files, the corpora, the code
of the modules it uses, an installed package's version) without importing torch.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any


def path_digest(value: Any) -> str | None:
    """SHA-256 over the names and contents of a file or a directory's files.

    Returns:
        The hex digest, or None when ``value`` is not a path that exists (a hub
        id: its name is all that can be fingerprinted offline).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    path = Path(value).expanduser()
    if path.is_file():
        files = {path.name: path}
    elif path.is_dir():
        files = {
            p.relative_to(path).as_posix(): p
            for p in path.rglob("*")
            # Hidden entries are caches, locks and markers, not model content.
            if p.is_file()
            and not any(s.startswith(".") for s in p.relative_to(path).parts)
        }
    else:
        return None
    digest = hashlib.sha256()
    for name in sorted(files):
        stat = files[name].stat()
        content = _file_digest(str(files[name]), stat.st_size, stat.st_mtime_ns)
        digest.update(f"{name}\0{content}\0".encode())
    return digest.hexdigest()


def module_digest(name: str) -> str | None:
    """SHA-256 of a module's source file, or None when it has none."""
    # find_spec locates the file without importing torch.
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or not Path(spec.origin).is_file():
        return None
    return hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()


def package_version(name: str) -> str | None:
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    # Content, not mtime, decides: a copied but unchanged backbone keeps its
    # fingerprint. Size and mtime only key the cache, so hundreds of MB of weights
    # are read once per process.
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
