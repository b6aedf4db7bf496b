"""A tiny random backbone for the NLU, component and benchmark tests.

A pytest plugin of ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# BERT's special tokens keep their usual ids 0-4; then the characters and words
# the toy texts use (the last line adds product and colour names). Anything else
# becomes [UNK], which tests rely on too.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
CJK_CHARACTERS = (
    "你您好早上晚安再见拜谢多少钱价格贵便宜打折优惠怎么退款货质量太差了慢坏很"
    "喜欢满意不错推荐买一件这个那有吗是的我想要问下请帮看衣服鞋子颜色尺码发快递"
    "到什么时候客服投诉生气失望棒爱开心在呀嗨东西明天聊走先用心超级"
    "裙帽袜红黑白蓝"
)
ASCII_WORDS = ("hello", "hi", "bye", "price", "good", "bad", "ok", "the", "is", "a")


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT with a ~130-token vocabulary, on disk.

    Loads like any pretrained checkpoint (`AutoModel`/`AutoTokenizer` with
    `local_files_only=True`) in well under a second. Only the slow tokenizer's
    files are saved (no tokenizer.json): `AutoTokenizer` converts them to the
    fast tokenizer that entity offsets need.
    """
    # Imported on use: the many tests that need no model then never load torch
    # and transformers (whose import-time logging set-up disturbs output capture).
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    directory = tmp_path_factory.mktemp("tiny_backbone")
    vocab = [*SPECIAL_TOKENS, *dict.fromkeys(CJK_CHARACTERS), *ASCII_WORDS]
    vocab_file = directory / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # transformers' constructors are untyped.
    tokenizer = BertTokenizer(str(vocab_file), do_lower_case=True)  # type: ignore[no-untyped-call]
    tokenizer.save_pretrained(directory)
    config = BertConfig(  # type: ignore[no-untyped-call]
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        BertModel(config).save_pretrained(directory)  # type: ignore[no-untyped-call]
    return directory
