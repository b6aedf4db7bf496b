"""Fine-tuning of the joint network: hyper-parameters, the loop and its report.

`fine_tune` runs the epochs for ``IntentSentimentModel.fit``: AdamW with a linear
warm-up schedule, the joint loss over partly labelled examples, gradient scaling
for fp16, early stopping on dev loss, and seeded, deterministic CPU runs. It sees
the model only through its network and a forward function, so it does not import
``components.intent_sentiment_model``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup, set_seed

from components.joint_network import JointNetwork

NO_LABEL = -1
# (text, intent index, sentiment index); NO_LABEL where that head does not learn.
Example = tuple[str, int, int]
# Texts to float intent and sentiment logits, on the network's device.
Forward = Callable[[Sequence[str]], tuple[torch.Tensor, torch.Tensor]]
# transformers leaves this untyped; state once what it returns.
_linear_schedule = cast(Callable[..., LambdaLR], get_linear_schedule_with_warmup)


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of `IntentSentimentModel.fit`."""

    max_length: int = 64  # tokens per text; replaces the model's max_length
    epochs: int = 8
    batch_size: int = 32
    learning_rate: float = 5e-5
    head_learning_rate: float = 3e-3  # heads learn faster than the encoder
    ngram_learning_rate: float = 0.1  # sparse n-gram rows are each seen rarely
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    sentiment_loss_weight: float = 1.0
    patience: int = 2  # early stopping on dev loss; 0 = off
    seed: int = 42
    device: str = "auto"  # "auto" keeps the model's device; else moves it there
    num_threads: int | None = None  # torch CPU threads while fitting; None = default
    show_progress: bool = True  # tqdm bars


@dataclass(frozen=True)
class TrainingReport:
    """What `fit` did; losses are those of `best_epoch`, whose weights were kept."""

    epochs_run: int
    best_epoch: int
    train_loss: float
    dev_loss: float | None
    seconds: float
    device: str


def fine_tune(
    network: JointNetwork,
    forward: Forward,
    examples: list[Example],
    dev: list[Example],
    config: TrainingConfig,
    reset_heads: bool,
) -> TrainingReport:
    """Fine-tunes `network` in place and leaves it in eval mode.

    Args:
        network: The network `forward` runs; it stays on its device.
        forward: Logits of a batch of texts (tokenising and autocast included).
        examples: Training examples; at least one.
        dev: Dev examples for the dev loss and early stopping; may be empty.
        config: The hyper-parameters; `max_length` and `device` are the caller's.
        reset_heads: Initialise the heads from `config.seed` first (fresh model).

    Returns:
        The report of the run, timed from seeding to the kept weights.
    """
    device = next(network.parameters()).device
    started = time.perf_counter()
    with reproducible(device, config.num_threads):
        set_seed(config.seed)  # python, numpy, torch and CUDA
        if reset_heads:
            network.reset_heads()
        epochs_run, best_epoch, train_loss, dev_loss = _epochs(
            network, forward, examples, dev, config
        )
    return TrainingReport(
        epochs_run,
        best_epoch,
        train_loss,
        dev_loss,
        seconds=time.perf_counter() - started,
        device=str(device),
    )


@contextmanager
def reproducible(device: torch.device, num_threads: int | None) -> Iterator[None]:
    """Sets CPU threads and deterministic kernels for one fit, then restores them."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    if num_threads:
        torch.set_num_threads(num_threads)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


def parameter_groups(
    network: nn.Module, config: TrainingConfig
) -> list[dict[str, object]]:
    """AdamW groups by part (encoder, n-grams, heads); weight decay on matrices only."""
    # By name prefix; everything else (heads, the n-gram LayerNorm) is "heads".
    rates = {
        "encoder.": config.learning_rate,
        "ngrams.bag.": config.ngram_learning_rate,
        "": config.head_learning_rate,
    }
    # Biases and LayerNorm weights (the 1-D tensors) get no weight decay.
    groups: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for name, param in network.named_parameters():
        prefix = next(p for p in rates if name.startswith(p))
        groups.setdefault((prefix, param.ndim >= 2), []).append(param)
    return [
        {
            "params": params,
            "lr": rates[prefix],
            "weight_decay": config.weight_decay if decay else 0.0,
        }
        for (prefix, decay), params in groups.items()
    ]


def _epochs(
    network: JointNetwork,
    forward: Forward,
    examples: list[Example],
    dev: list[Example],
    config: TrainingConfig,
) -> tuple[int, int, float, float | None]:
    device = next(network.parameters()).device
    steps = math.ceil(len(examples) / config.batch_size) * config.epochs
    optimizer = torch.optim.AdamW(parameter_groups(network, config))
    scheduler = _linear_schedule(optimizer, int(config.warmup_ratio * steps), steps)
    fp16 = device.type == "cuda" and not torch.cuda.is_bf16_supported()
    scaler = torch.amp.grad_scaler.GradScaler(device.type, enabled=fp16)
    shuffler = torch.Generator().manual_seed(config.seed)
    early_stopping = config.patience > 0 and bool(dev)
    best: tuple[int, float, float | None] = (0, math.nan, None)
    best_state: dict[str, torch.Tensor] | None = None
    epoch = 0
    bar = tqdm(range(1, config.epochs + 1), "epochs", disable=not config.show_progress)
    for epoch in bar:
        network.train()
        order = torch.randperm(len(examples), generator=shuffler).tolist()
        batches = _batches([examples[i] for i in order], config.batch_size)
        total = 0.0
        for batch in tqdm(batches, f"epoch {epoch}", leave=False, disable=bar.disable):
            loss = _loss(forward, batch, config.sentiment_loss_weight, device)
            optimizer.zero_grad(set_to_none=True)
            torch.autograd.backward(scaler.scale(loss))
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            total += loss.item() * len(batch)
        train_loss = total / len(examples)
        dev_loss = _dev_loss(network, forward, dev, config) if dev else None
        bar.set_postfix(train_loss=train_loss, dev_loss=dev_loss)
        if not early_stopping:
            best = (epoch, train_loss, dev_loss)
        elif dev_loss is not None and (best[2] is None or dev_loss < best[2]):
            best = (epoch, train_loss, dev_loss)
            best_state = {
                k: v.to("cpu", copy=True) for k, v in network.state_dict().items()
            }
        elif epoch - best[0] >= config.patience:
            break
    if best_state is not None:
        network.load_state_dict(best_state)
    network.eval()
    return epoch, *best


def _loss(
    forward: Forward, batch: list[Example], weight: float, device: torch.device
) -> torch.Tensor:
    texts, intents, sentiments = zip(*batch, strict=True)
    intent_logits, sentiment_logits = forward(texts)
    loss = intent_logits.new_zeros(())
    for logits, labels, scale in (
        (intent_logits, intents, 1.0),
        (sentiment_logits, sentiments, weight),
    ):
        target = torch.tensor(labels, device=device)
        known = target != NO_LABEL
        if known.any():
            loss = loss + scale * nn.functional.cross_entropy(
                logits[known], target[known]
            )
    return loss


def _dev_loss(
    network: JointNetwork,
    forward: Forward,
    dev: list[Example],
    config: TrainingConfig,
) -> float:
    device = next(network.parameters()).device
    network.eval()
    with torch.inference_mode():
        total = sum(
            _loss(forward, batch, config.sentiment_loss_weight, device).item()
            * len(batch)
            for batch in _batches(dev, config.batch_size)
        )
    return total / len(dev)


def _batches(items: list[Example], size: int) -> list[list[Example]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
