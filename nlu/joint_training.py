"""Fine-tuning of the joint network: hyper-parameters, the loop and its report.

`fine_tune` runs the epochs for ``NluModel.fit``: AdamW with a linear warm-up
schedule, the joint loss over partly labelled examples (a review has only a
sentiment, an NLU example an intent, maybe a sentiment, and entity spans),
batches of similar length, mixed precision where the hardware has it, early
stopping on dev loss, and seeded, deterministic CPU runs. It sees the model only
through its network and a batch function, so it does not import
``nlu.model``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple, cast

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup, set_seed

from nlu.entity_tags import IGNORE, EntitySpan
from nlu.joint_network import JointNetwork, Logits
from nlu.lexical_model import LexicalSpec

NO_LABEL = IGNORE
# Batches are drawn from pools of this many batches sorted by text length, so a
# batch pads little while the order of batches stays random.
_POOL_BATCHES = 50
# transformers leaves this untyped; state once what it returns.
_linear_schedule = cast(Callable[..., LambdaLR], get_linear_schedule_with_warmup)


@dataclass(frozen=True)
class Example:
    """One training text with label indices; NO_LABEL where a head does not learn.

    ``entities`` None means the text has no entity annotation at all (a review),
    so the entity head does not learn from it; ``()`` means "no entities here".
    """

    text: str
    intent: int
    sentiment: int
    entities: tuple[EntitySpan, ...] | None


class Targets(NamedTuple):
    """What a batch should predict, on the network's device."""

    intent: torch.Tensor  # (batch,), NO_LABEL where unknown
    sentiment: torch.Tensor  # (batch,)
    entity: torch.Tensor | None  # (batch, tokens), IGNORE where unknown


# A batch of examples to logits and targets (tokenising and autocast included).
Forward = Callable[[Sequence[Example]], tuple[Logits, Targets]]


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of `NluModel.fit`."""

    max_length: int = 64  # tokens per text; replaces the model's max_length
    epochs: int = 8
    batch_size: int = 32
    learning_rate: float = 5e-5
    head_learning_rate: float = 3e-3  # heads learn faster than the encoder
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    sentiment_loss_weight: float = 1.0
    entity_loss_weight: float = 1.0
    lexical_c: float = LexicalSpec.c  # inverse L2 strength of the lexical expert
    freeze_embeddings: bool = True  # the word embeddings stay as pretrained
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
        forward: Logits and targets of a batch of examples.
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
        embeddings = cast(nn.Embedding, network.encoder.get_input_embeddings()).weight
        trainable = bool(embeddings.requires_grad)
        embeddings.requires_grad_(trainable and not config.freeze_embeddings)
        try:
            epochs_run, best_epoch, train_loss, dev_loss = _epochs(
                network, forward, examples, dev, config
            )
        finally:
            embeddings.requires_grad_(trainable)
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
    """AdamW groups by part (encoder, heads); weight decay on matrices only."""
    # By name prefix; everything else is a head.
    rates = {"encoder.": config.learning_rate, "": config.head_learning_rate}
    # Biases and LayerNorm weights (the 1-D tensors) get no weight decay.
    groups: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for name, param in network.named_parameters():
        if not param.requires_grad:
            continue
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


def joint_loss(
    logits: Logits, targets: Targets, config: TrainingConfig
) -> torch.Tensor:
    """Cross-entropy of each head over the examples (tokens) that have its label."""
    loss = logits.intent.new_zeros((), dtype=torch.float32)
    pairs = [
        (logits.intent, targets.intent, 1.0),
        (logits.sentiment, targets.sentiment, config.sentiment_loss_weight),
    ]
    if logits.entity is not None and targets.entity is not None:
        flat = logits.entity.reshape(-1, logits.entity.shape[-1])
        pairs.append((flat, targets.entity.reshape(-1), config.entity_loss_weight))
    for scores, labels, weight in pairs:
        if bool((labels != NO_LABEL).any()):
            loss = loss + weight * nn.functional.cross_entropy(
                scores.float(), labels, ignore_index=NO_LABEL
            )
    return loss


def length_grouped_batches(
    examples: Sequence[Example], size: int, rng: random.Random
) -> list[list[Example]]:
    """Shuffled batches of examples of similar length (less padding per batch)."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    batches: list[list[Example]] = []
    pool = size * _POOL_BATCHES
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: len(examples[i].text))
        batches += [
            [examples[i] for i in chunk[s : s + size]]
            for s in range(0, len(chunk), size)
        ]
    rng.shuffle(batches)
    return batches


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
    rng = random.Random(config.seed)
    early_stopping = config.patience > 0 and bool(dev)
    best: tuple[int, float, float | None] = (0, math.nan, None)
    best_state: dict[str, torch.Tensor] | None = None
    epoch = 0
    bar = tqdm(range(1, config.epochs + 1), "epochs", disable=not config.show_progress)
    for epoch in bar:
        network.train()
        batches = length_grouped_batches(examples, config.batch_size, rng)
        total = 0.0
        for batch in tqdm(batches, f"epoch {epoch}", leave=False, disable=bar.disable):
            loss = joint_loss(*forward(batch), config)
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


def _dev_loss(
    network: JointNetwork,
    forward: Forward,
    dev: list[Example],
    config: TrainingConfig,
) -> float:
    network.eval()
    with torch.inference_mode():
        total = sum(
            joint_loss(*forward(dev[s : s + config.batch_size]), config).item()
            * len(dev[s : s + config.batch_size])
            for s in range(0, len(dev), config.batch_size)
        )
    return total / len(dev)
