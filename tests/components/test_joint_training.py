from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pytest
import torch
from torch import nn

from components.joint_network import JointNetwork, load_backbone
from components.joint_training import (
    NO_LABEL,
    TrainingConfig,
    fine_tune,
    parameter_groups,
    reproducible,
)


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.ngrams = nn.ModuleDict(
            {"bag": nn.EmbeddingBag(8, 4), "norm": nn.LayerNorm(4)}
        )
        self.intent_head = nn.Linear(4, 2)


def test_reproducible_restores_threads_and_determinism_even_after_an_error() -> None:
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()

    with (
        pytest.raises(RuntimeError, match="boom"),
        reproducible(torch.device("cpu"), num_threads=1),
    ):
        assert torch.get_num_threads() == 1
        assert torch.are_deterministic_algorithms_enabled()
        raise RuntimeError("boom")

    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    assert torch.is_deterministic_algorithms_warn_only_enabled() == warn_only


def test_parameter_groups_split_learning_rate_and_weight_decay() -> None:
    network = _Tiny()
    config = TrainingConfig(
        learning_rate=1e-5, head_learning_rate=1e-3, ngram_learning_rate=0.1
    )

    groups = {
        (group["lr"], group["weight_decay"]): {
            id(param) for param in cast(list[nn.Parameter], group["params"])
        }
        for group in parameter_groups(network, config)
    }

    linear, norm = network.encoder[0], network.encoder[1]
    head = network.intent_head
    assert groups == {
        (1e-5, 0.01): {id(linear.weight)},
        (1e-5, 0.0): {id(linear.bias), id(norm.weight), id(norm.bias)},
        (1e-3, 0.01): {id(head.weight)},
        (1e-3, 0.0): {id(head.bias), *map(id, network.ngrams["norm"].parameters())},
        (0.1, 0.01): {id(network.ngrams["bag"].weight)},
    }


def test_a_head_without_labels_does_not_move(tiny_backbone: Path) -> None:
    encoder, tokenizer = load_backbone(str(tiny_backbone))
    network = JointNetwork(encoder, intents=2, sentiments=3)
    intent_head = {k: v.clone() for k, v in network.intent_head.state_dict().items()}
    sentiment_head = network.sentiment_head.weight.clone()

    def forward(texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = tokenizer(list(texts), padding=True, return_tensors="pt")
        intents, sentiments = network(inputs["input_ids"], inputs["attention_mask"])
        return intents.float(), sentiments.float()

    examples = [("你好", NO_LABEL, 0), ("太差了", NO_LABEL, 2), ("不错", NO_LABEL, 1)]
    config = TrainingConfig(epochs=2, batch_size=2, show_progress=False)
    report = fine_tune(network, forward, examples, [], config, reset_heads=False)

    assert report.epochs_run == report.best_epoch == 2
    assert report.dev_loss is None
    assert report.device == "cpu"
    for name, tensor in network.intent_head.state_dict().items():
        assert torch.equal(tensor, intent_head[name])
    assert not torch.equal(network.sentiment_head.weight, sentiment_head)
    assert not network.training
