"""The ``transformers`` copy backend: a local causal LM, GPU when present.

The model is a folder that ``save_pretrained`` wrote (a fine-tuned Qwen, a GPT-2,
any causal LM with its tokenizer; ``make assets-llm`` converts the local Qwen2.5
models into ``.assets/qwen2.5-coder-*-instruct-hf/``) or a single ``.gguf`` file,
which transformers dequantises on every load (slower; needs the ``gguf`` package).
Nothing is downloaded (``local_files_only``). Weights load in bfloat16 where the
hardware computes it natively (CUDA, or a CPU with AVX512-BF16/AMX: 2-3x the
float32 speed there, since CPU generation is bound by memory bandwidth), else
float16 on CUDA and float32 on CPU. The model loads on first use, in a worker
thread, and generation runs there too, so no event loop waits on torch. Only the
new tokens are decoded: the prompt is never part of the answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from pathlib import Path
from typing import Any

from copywriting.generator import GeneratorError
from copywriting.prompts import facts_block, instructions, prompt_lines
from copywriting.request import CopyRequest

logger = logging.getLogger(__name__)

# Sampling settings for marketing copy: Qwen2.5's own (generation_config.json
# of the Instruct models), varied but on topic.
TEMPERATURE = 0.7
TOP_P = 0.8
TOP_K = 20
REPETITION_PENALTY = 1.1
MAX_PROMPT_TOKENS = 512
# A space between two characters that are not ASCII (hanzi, full-width marks).
_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")
# End-of-turn tokens of chat models; a GGUF names only one of Qwen's two.
STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")


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
        self._failed: GeneratorError | None = None
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
            if self._failed is not None:
                raise self._failed  # once: not again for every sample
            if self._loaded is None:
                try:
                    self._loaded = self._load()
                except GeneratorError as e:
                    self._failed = e
                    raise
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
        if device == "cuda":
            bf16 = torch.cuda.is_bf16_supported()
            dtype = torch.bfloat16 if bf16 else torch.float16
        else:
            dtype = torch.bfloat16 if _cpu_has_bf16() else torch.float32
        try:
            # fix_mistral_regex=False: transformers 4.57 warns of a Mistral regex
            # bug on every Qwen tokenizer (huggingface/transformers#44031); the
            # converted tokenizer encodes exactly as the GGUF's own.
            tokenizer = AutoTokenizer.from_pretrained(  # type: ignore[no-untyped-call]
                folder, fix_mistral_regex=False, **source
            )
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **source)
        except Exception as e:  # a missing, partial or corrupt model folder
            # raises whatever the loader meets (OSError, AttributeError, a
            # SafetensorError): each means "no usable model here".
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
        stops = _stop_ids(tokenizer)
        pad = tokenizer.pad_token_id
        if pad is None:
            pad = stops[0] if stops else 0
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=True,
                temperature=TEMPERATURE,
                top_p=TOP_P,
                top_k=TOP_K,
                repetition_penalty=REPETITION_PENALTY,
                pad_token_id=pad,
                eos_token_id=stops or None,
            )
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        text: str = tokenizer.decode(new_tokens, skip_special_tokens=True)
        # Character tokenizers decode with spaces between Chinese characters;
        # the space of "X5 Pro" stays.
        return _CJK_GAP.sub("", text).strip()


def _stop_ids(tokenizer: Any) -> list[int]:
    """The tokenizer's end-of-sequence id and the chat end-of-turn ids it knows."""
    vocabulary = tokenizer.get_vocab()
    ids = [vocabulary[token] for token in STOP_TOKENS if token in vocabulary]
    if tokenizer.eos_token_id is not None:
        ids.insert(0, tokenizer.eos_token_id)
    return list(dict.fromkeys(ids))


def _cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch without oneDNN
        return False
