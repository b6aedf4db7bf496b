"""Content digests that decide when Rasa retrains the component."""

from __future__ import annotations

import shutil
from pathlib import Path

from nlu.fingerprint import module_digest, package_version, path_digest


def test_path_digest_follows_the_content_not_the_mtime(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    backbone = tmp_path / "backbone"
    shutil.copytree(tiny_backbone, backbone)
    original = path_digest(str(backbone))
    assert original is not None and original == path_digest(str(tiny_backbone))

    (backbone / "config.json").touch()  # same content, new mtime
    assert path_digest(str(backbone)) == original

    weights = next(backbone.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x00")
    changed = path_digest(str(backbone))
    assert changed != original

    (backbone / ".lock").write_text("caches do not count")
    assert path_digest(str(backbone)) == changed


def test_path_digest_of_a_file_and_of_what_is_no_path(tmp_path: Path) -> None:
    corpus = tmp_path / "reviews.tsv"
    corpus.write_text("positive\t很好\n", encoding="utf-8")
    before = path_digest(str(corpus))
    corpus.write_text("negative\t很好\n", encoding="utf-8")
    assert path_digest(str(corpus)) not in (None, before)
    # A hub id (or an unset key) has no content to read offline.
    for value in ("bert-base-chinese", "", "   ", None, 3):
        assert path_digest(value) is None


def test_module_digest_reads_the_source_without_importing() -> None:
    digest = module_digest("nlu.constants")
    assert digest is not None and len(digest) == 64
    assert module_digest("components.no_such_module") is None


def test_package_version_of_installed_and_missing_packages() -> None:
    assert package_version("rasa")
    assert package_version("no-such-package-anywhere") is None
