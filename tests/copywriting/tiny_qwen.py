"""A tiny random Qwen2 causal LM with a character tokenizer, saved to a folder.

What the ``transformers`` backend loads in tests instead of a real model: the
same architecture as Qwen2.5 (``Qwen2ForCausalLM``), random weights, 2 layers
of width 32, and a BERT-style tokenizer over a few hundred Chinese characters
(one token per character) with a chat template. Built in ``tmp_path`` in a
second; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

# Characters of harmless copy: no digits, no product names, no absolute claims,
# so a random model's text fails no fact or advertising-law check by chance.
SAFE_CHARS = (
    "好物推荐欢迎选购今天快来看看吧值得拥有舒适耐用轻巧便携惊喜送给你"
    "心意生活品质陪伴温暖每一刻"
)
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}文案：{% endif %}"
)
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_qwen(folder: Path, chars: str = SAFE_CHARS) -> Path:
    """Saves the tiny model and its tokenizer into ``folder``; returns it."""
    import torch
    from transformers import BertTokenizer, Qwen2Config, Qwen2ForCausalLM

    folder.mkdir(parents=True, exist_ok=True)
    vocab = SPECIALS + sorted(set(chars))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"))  # type: ignore[no-untyped-call]
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    config = Qwen2Config(  # type: ignore[no-untyped-call]
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=1024,
        pad_token_id=vocab.index("[PAD]"),
        bos_token_id=vocab.index("[CLS]"),
        eos_token_id=vocab.index("[SEP]"),
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(folder)  # type: ignore[no-untyped-call]
    return folder
