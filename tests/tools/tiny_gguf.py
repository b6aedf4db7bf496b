"""A tiny random Qwen2 chat model in GGUF, written with the ``gguf`` package.

What transformers needs to build a model and a tokenizer from a GGUF file, in a
few kilobytes: Qwen2 hyperparameters, a byte-level BPE vocabulary (the 256 byte
symbols, two merges and Qwen's three special tokens), a ChatML chat template and
float32 tensors for one block. Used by the converter's and the copy backend's tests
in place of the real 1 GB files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

HIDDEN = 16
HEADS = 2
KV_HEADS = 1
FFN = 32
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def byte_symbols() -> list[str]:
    """The 256 printable symbols byte-level BPE stands for bytes with (GPT-2's)."""
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    return list(bytes_to_unicode().values())


def write_tiny_qwen2(path: Path, seed: int = 0) -> Path:
    """Writes the tiny model to ``path`` (a ``.gguf`` file); returns ``path``."""
    import gguf

    tokens = [*byte_symbols(), "ĠĠ", "ĠĠĠĠ", *SPECIALS]
    normal, control = gguf.TokenType.NORMAL, gguf.TokenType.CONTROL
    types = [normal] * (len(tokens) - len(SPECIALS)) + [control] * len(SPECIALS)
    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_name("tiny-qwen2")
    writer.add_context_length(128)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(1)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    # Two merges: transformers reads an array of one as a plain string.
    writer.add_token_merges(["Ġ Ġ", "ĠĠ ĠĠ"])
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_pad_token_id(tokens.index("<|endoftext|>"))
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_chat_template(CHAT_TEMPLATE)
    rng = np.random.default_rng(seed)
    kv = HIDDEN // HEADS * KV_HEADS
    shapes = {
        "token_embd.weight": (len(tokens), HIDDEN),
        "output_norm.weight": (HIDDEN,),
        "blk.0.attn_norm.weight": (HIDDEN,),
        "blk.0.attn_q.weight": (HIDDEN, HIDDEN),
        "blk.0.attn_q.bias": (HIDDEN,),
        "blk.0.attn_k.weight": (kv, HIDDEN),
        "blk.0.attn_k.bias": (kv,),
        "blk.0.attn_v.weight": (kv, HIDDEN),
        "blk.0.attn_v.bias": (kv,),
        "blk.0.attn_output.weight": (HIDDEN, HIDDEN),
        "blk.0.ffn_norm.weight": (HIDDEN,),
        "blk.0.ffn_gate.weight": (FFN, HIDDEN),
        "blk.0.ffn_up.weight": (FFN, HIDDEN),
        "blk.0.ffn_down.weight": (HIDDEN, FFN),
    }
    for name, shape in shapes.items():
        norm = name.endswith("norm.weight")
        values = np.ones(shape) if norm else rng.normal(scale=0.1, size=shape)
        writer.add_tensor(name, values.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture(scope="session")
def tiny_qwen_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Qwen2 chat model as one ``.gguf`` file."""
    folder = tmp_path_factory.mktemp("tiny-qwen2-gguf")
    return write_tiny_qwen2(folder / "tiny-qwen2-f32.gguf")
