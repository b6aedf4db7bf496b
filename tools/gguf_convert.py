"""A GGUF chat model converted into a standard transformers folder.

transformers reads GGUF itself (through the ``gguf`` package): it dequantises every
tensor to float and builds the tokenizer, chat template included, from the file's
metadata. That takes a while and needs ``gguf``, so it is done once here and the
result saved with ``save_pretrained``: bf16 safetensors (half the bytes of float32;
the backend upcasts on CPU) and the tokenizer files, which later load in seconds.

The conversion is checked before it counts: the saved tokenizer must carry the
chat template and render a conversation with it, since the copy backend prompts
chat models through that template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# A conversation the saved chat template must render, the user's text included.
PROBE_MESSAGES = [
    {"role": "system", "content": "你是营销文案助手。"},
    {"role": "user", "content": "耳机第二件半价"},
]


class ConversionError(Exception):
    """The GGUF file does not give a chat model the copy backend can prompt."""


def convert(gguf: Path, target: Path) -> None:
    """Writes the model and tokenizer of ``gguf`` into the folder ``target``.

    Raises:
        ConversionError: The file carries no chat template, or the saved tokenizer
            does not render a conversation.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source: dict[str, Any] = {"gguf_file": gguf.name, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(  # type: ignore[no-untyped-call]
        gguf.parent, **source
    )
    if not getattr(tokenizer, "chat_template", None):
        raise ConversionError(f"{gguf.name} has no tokenizer.chat_template")
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, dtype=torch.bfloat16, **source
    )
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)
    check_chat_template(target)


def check_chat_template(folder: Path) -> str:
    """Renders :data:`PROBE_MESSAGES` with the tokenizer saved in ``folder``.

    Raises:
        ConversionError: No chat template, or one that drops the user's text.
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(  # type: ignore[no-untyped-call]
        folder, local_files_only=True
    )
    if not getattr(tokenizer, "chat_template", None):
        raise ConversionError(f"the tokenizer saved in {folder} lost its chat template")
    prompt = tokenizer.apply_chat_template(
        PROBE_MESSAGES, tokenize=False, add_generation_prompt=True
    )
    if not isinstance(prompt, str) or PROBE_MESSAGES[-1]["content"] not in prompt:
        raise ConversionError(f"the chat template in {folder} drops the user's text")
    return prompt
