"""The ``transformers`` copy backend: a local causal LM, GPU when present.

The model is a folder that ``save_pretrained`` wrote (a fine-tuned Qwen, a GPT-2,
any causal LM with its tokenizer; ``make assets-llm`` converts the local Qwen2.5
models into ``.assets/qwen2.5-coder-*-instruct-hf/``) or a single ``.gguf`` file,
which transformers dequantises on every load (slower; needs the ``gguf`` package).
Nothing is downloaded (``local_files_only``). Weights load in float32 on CPU (a
bf16 folder is upcast) and in bfloat16, or float16 where the GPU lacks it, on
CUDA. The model loads on first use, in a worker thread, and generation runs there
too, so the action server's event loop never waits on torch. Only the new tokens
are decoded: the prompt is never part of the answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from copywriting.generator import GeneratorError
from copywriting.prompts import facts_block, instructions, prompt_lines
from copywriting.request import CopyRequest

logger = logging.getLogger(__name__)

# Sampling settings for marketing copy: varied but on topic.
TEMPERATURE = 0.8
TOP_P = 0.9
MAX_PROMPT_TOKENS = 512


class TransformersGenerator:
    """Generates copy with a local causal language model.

    Args:
        model_dir: Folder with the model and tokenizer, or a ``.gguf`` file.
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
        max_new_tokens: Length of one copy in tokens.
    """

    def __init__(
        self, model_dir: str | Path, device: str = "auto", max_new_tokens: int = 120
    ) -> None:
        self.model_dir = Path(model_dir)
        self.device = device
        self.max_new_tokens = max_new_tokens
        self._loaded: tuple[Any, Any, str] | None = None
        self._lock = threading.Lock()

    async def generate(self, request: CopyRequest) -> str:
        """Copy for ``request`` from the model."""
        return await asyncio.to_thread(self.generate_sync, request)

    def load(self) -> tuple[Any, Any, str]:
        """Loads tokenizer and model once; returns them with the device used.

        Raises:
            GeneratorError: The folder holds no loadable model.
        """
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def resolved_device(self) -> str:
        """``cuda`` or ``cpu``: ``auto`` takes the GPU when torch sees one."""
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def _load(self) -> tuple[Any, Any, str]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self.resolved_device()
        folder = self.model_dir
        source: dict[str, Any] = {"local_files_only": True}
        if self.model_dir.suffix == ".gguf":
            folder, source["gguf_file"] = self.model_dir.parent, self.model_dir.name
        dtype = torch.float32
        if device == "cuda":
            bf16 = torch.cuda.is_bf16_supported()
            dtype = torch.bfloat16 if bf16 else torch.float16
        try:
            tokenizer = AutoTokenizer.from_pretrained(  # type: ignore[no-untyped-call]
                folder, **source
            )
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **source)
        except (OSError, ValueError, ImportError) as e:  # ImportError: no gguf
            raise GeneratorError(
                f"no causal LM in {self.model_dir} (set AURORA_GENERATOR_MODEL_DIR to "
                f"a save_pretrained folder or a .gguf file): {e}"
            ) from e
        model.to(device).eval()  # type: ignore[arg-type]
        logger.info("Copy model %s loaded on %s.", self.model_dir, device)
        return tokenizer, model, device

    def _prompt(self, tokenizer: Any, request: CopyRequest) -> str:
        if getattr(tokenizer, "chat_template", None):
            system = "\n".join(instructions(request))
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": facts_block(request)},
            ]
            prompt: str = tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            return prompt
        return "\n".join(prompt_lines(request))

    def generate_sync(self, request: CopyRequest) -> str:
        """Generates in the calling thread (the async API runs it in a worker)."""
        import torch

        tokenizer, model, device = self.load()
        prompt = self._prompt(tokenizer, request)
        inputs = tokenizer(
            prompt,
            return_tensors="pt",
            truncation=True,
            max_length=MAX_PROMPT_TOKENS,
            add_special_tokens=False,
        ).to(device)
        inputs.pop("token_type_ids", None)
        pad = tokenizer.pad_token_id
        if pad is None:
            pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=True,
                temperature=TEMPERATURE,
                top_p=TOP_P,
                pad_token_id=pad,
            )
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        text: str = tokenizer.decode(new_tokens, skip_special_tokens=True)
        # Character tokenizers decode with spaces between Chinese characters.
        return text.replace(" ", "") if _mostly_chinese(text) else text.strip()


def _mostly_chinese(text: str) -> bool:
    chinese = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return chinese > len(text.replace(" ", "")) / 2
