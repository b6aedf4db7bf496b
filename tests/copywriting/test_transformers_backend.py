"""The ``transformers`` backend with a tiny random GPT-2 built in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from copywriting.generator import GeneratorError
from copywriting.prompts import facts_block
from copywriting.request import CopyRequest
from copywriting.transformers_backend import TransformersGenerator

REQUEST = CopyRequest("promotion", "promo-x", "耳机第二件半价", ("第二件半价",))
CHARS = "极光智能耳机手机手表优惠活动第二件半价欢迎了解立减元最一第国家级顶"


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BertTokenizer, GPT2Config, GPT2LMHeadModel

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = specials + sorted(set(CHARS)) + list("0123456789：-，。\n")
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"))  # type: ignore[no-untyped-call]
    tokenizer.save_pretrained(folder)
    config = GPT2Config(  # type: ignore[no-untyped-call]
        vocab_size=len(vocab), n_positions=1024, n_embd=32, n_layer=2, n_head=2
    )
    GPT2LMHeadModel(config).save_pretrained(folder)  # type: ignore[no-untyped-call]
    return folder


async def test_generates_new_text_only(tiny_gpt2: Path) -> None:
    backend = TransformersGenerator(tiny_gpt2, device="cpu", max_new_tokens=12)
    text = await backend.generate(REQUEST)
    assert text
    assert facts_block(REQUEST).replace(" ", "") not in text
    _, _, device = backend.load()
    assert device == "cpu"


async def test_missing_model_folder_is_a_generator_error(tmp_path: Path) -> None:
    backend = TransformersGenerator(tmp_path / "nothing", device="cpu")
    with pytest.raises(GeneratorError, match="AURORA_GENERATOR_MODEL_DIR"):
        await backend.generate(REQUEST)


def test_auto_device_takes_the_gpu_when_torch_sees_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import torch

    backend = TransformersGenerator(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert backend.resolved_device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert backend.resolved_device() == "cpu"
    assert TransformersGenerator(tmp_path, device="cuda").resolved_device() == "cuda"


async def test_loads_a_gguf_file_with_its_chat_template(tiny_qwen_gguf: Path) -> None:
    backend = TransformersGenerator(tiny_qwen_gguf, device="cpu", max_new_tokens=6)
    assert isinstance(await backend.generate(REQUEST), str)
    tokenizer, _, _ = backend.load()
    assert tokenizer.chat_template


@pytest.mark.parametrize("native_bf16", [True, False])
async def test_a_bf16_folder_runs_in_bf16_only_where_the_cpu_computes_it(
    tiny_qwen_gguf: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    native_bf16: bool,
) -> None:
    import torch

    from copywriting import transformers_backend
    from tools.gguf_convert import convert

    monkeypatch.setattr(transformers_backend, "_cpu_has_bf16", lambda: native_bf16)
    convert(tiny_qwen_gguf, tmp_path / "hf")
    backend = TransformersGenerator(tmp_path / "hf", device="cpu", max_new_tokens=6)
    assert isinstance(await backend.generate(REQUEST), str)
    _, model, _ = backend.load()
    assert model.dtype == (torch.bfloat16 if native_bf16 else torch.float32)


async def test_a_missing_gguf_file_is_a_generator_error(tmp_path: Path) -> None:
    backend = TransformersGenerator(tmp_path / "absent.gguf", device="cpu")
    with pytest.raises(GeneratorError, match=r"absent\.gguf.*\.gguf file"):
        await backend.generate(REQUEST)


def _local_qwen() -> Path:
    """The converted Qwen2.5-Coder-0.5B of `make assets-llm`, or a skip."""
    from tools.assets import ASSETS_DIR, COMPLETE_MARKER
    from tools.llm_assets import MODELS

    assets = Path(os.environ.get("AURORA_ASSETS_DIR", ASSETS_DIR))
    folder = assets / MODELS["0.5b"].converted
    if not (folder / COMPLETE_MARKER).is_file():
        # On demand, not built by `make assets`: a skip even under CI=true.
        pytest.skip(f"no {folder}: run `make assets-llm` (about 1.6 GB) to get it")
    return folder


@pytest.mark.llm_asset
async def test_the_local_qwen_writes_chinese_copy() -> None:
    import torch

    torch.manual_seed(0)
    backend = TransformersGenerator(_local_qwen(), device="cpu", max_new_tokens=40)
    text = await backend.generate(REQUEST)
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) >= 5, text
    assert "<|im_" not in text and "文案：" not in text
