"""The fine-tuning loop, seen through a network and a batch function only."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pytest
import torch
from torch import nn

from nlu.entity_tags import EntitySpan, tag_names, token_tags
from nlu.joint_network import JointNetwork, Logits, load_backbone
from nlu.joint_training import (
    NO_LABEL,
    Example,
    Forward,
    Targets,
    TrainingConfig,
    fine_tune,
    joint_loss,
    length_grouped_batches,
    parameter_groups,
    reproducible,
)

TAGS = tag_names(["product"])


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Embedding(8, 4), nn.Linear(4, 4), nn.LayerNorm(4)
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
    config = TrainingConfig(learning_rate=1e-5, head_learning_rate=1e-3)

    groups = {
        (group["lr"], group["weight_decay"]): {
            id(param) for param in cast(list[nn.Parameter], group["params"])
        }
        for group in parameter_groups(network, config)
    }

    embedding, linear, norm = network.encoder
    head = network.intent_head
    assert groups == {
        (1e-5, 0.01): {id(embedding.weight), id(linear.weight)},
        (1e-5, 0.0): {id(linear.bias), id(norm.weight), id(norm.bias)},
        (1e-3, 0.01): {id(head.weight)},
        (1e-3, 0.0): {id(head.bias)},
    }


def test_parameter_groups_leave_out_frozen_parameters() -> None:
    network = _Tiny()
    network.encoder[0].weight.requires_grad_(False)

    grouped = {
        id(param)
        for group in parameter_groups(network, TrainingConfig())
        for param in cast(list[nn.Parameter], group["params"])
    }

    assert id(network.encoder[0].weight) not in grouped
    assert len(grouped) == len(list(network.parameters())) - 1


def _joint(backbone: Path, entity_tags: int = 0) -> tuple[JointNetwork, Forward]:
    """A network on the tiny backbone and the batch function `NluModel` would give."""
    encoder, tokenizer = load_backbone(str(backbone))
    network = JointNetwork(encoder, intents=2, sentiments=3, entity_tags=entity_tags)

    def forward(batch: Sequence[Example]) -> tuple[Logits, Targets]:
        texts = [e.text for e in batch]
        inputs = tokenizer(
            texts, padding=True, return_offsets_mapping=True, return_tensors="pt"
        )
        tags = [
            token_tags(offsets, e.entities, TAGS)
            if e.entities is not None
            else [NO_LABEL] * len(offsets)
            for e, offsets in zip(batch, inputs["offset_mapping"].tolist(), strict=True)
        ]
        targets = Targets(
            torch.tensor([e.intent for e in batch]),
            torch.tensor([e.sentiment for e in batch]),
            torch.tensor(tags) if entity_tags else None,
        )
        return network(inputs["input_ids"], inputs["attention_mask"]), targets

    return network, forward


def _clone(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _moved(module: nn.Module, before: dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(v, before[k]) for k, v in module.state_dict().items())


def test_a_head_without_labels_does_not_move(tiny_backbone: Path) -> None:
    network, forward = _joint(tiny_backbone, entity_tags=len(TAGS))
    assert network.entity_head is not None
    heads = {
        name: _clone(head)
        for name, head in (
            ("intent", network.intent_head),
            ("sentiment", network.sentiment_head),
            ("entity", network.entity_head),
        )
    }
    # Sentiment only, as reviews are: neither intents nor entity tags to learn.
    examples = [
        Example("你好", NO_LABEL, 0, None),
        Example("太差了", NO_LABEL, 2, None),
        Example("不错", NO_LABEL, 1, None),
    ]
    config = TrainingConfig(epochs=2, batch_size=2, show_progress=False)

    report = fine_tune(network, forward, examples, [], config, reset_heads=False)

    assert report.epochs_run == report.best_epoch == 2
    assert report.dev_loss is None
    assert report.device == "cpu"
    assert not _moved(network.intent_head, heads["intent"])
    assert not _moved(network.entity_head, heads["entity"])
    assert _moved(network.sentiment_head, heads["sentiment"])
    assert not network.training


def test_entity_annotations_train_the_entity_head(tiny_backbone: Path) -> None:
    network, forward = _joint(tiny_backbone, entity_tags=len(TAGS))
    assert network.entity_head is not None
    before = _clone(network.entity_head)
    examples = [
        Example("衣服多少钱", NO_LABEL, NO_LABEL, (EntitySpan("product", 0, 2),)),
        Example("你好", NO_LABEL, NO_LABEL, ()),  # annotated: no entity here
    ]
    config = TrainingConfig(epochs=1, batch_size=2, show_progress=False)

    report = fine_tune(network, forward, examples, examples, config, reset_heads=True)

    assert _moved(network.entity_head, before)
    assert report.dev_loss is not None and report.dev_loss > 0


@pytest.mark.parametrize("freeze", [True, False])
def test_frozen_word_embeddings_do_not_move(tiny_backbone: Path, freeze: bool) -> None:
    network, forward = _joint(tiny_backbone)
    embeddings = network.get_parameter("encoder.embeddings.word_embeddings.weight")
    word_embeddings = embeddings.detach().clone()
    layers = _clone(network.get_submodule("encoder.encoder.layer"))
    examples = [Example("你好", 0, 0, None), Example("太差了", 1, 2, None)]
    config = TrainingConfig(
        epochs=2, batch_size=2, freeze_embeddings=freeze, show_progress=False
    )

    fine_tune(network, forward, examples, [], config, reset_heads=True)

    assert torch.equal(embeddings, word_embeddings) == freeze
    assert _moved(network.get_submodule("encoder.encoder.layer"), layers)  # learns
    assert embeddings.requires_grad  # as it was, for a later fit


def test_a_batch_with_labels_only_for_heads_of_weight_zero_is_no_error(
    tiny_backbone: Path,
) -> None:
    network, forward = _joint(tiny_backbone)
    # A review (sentiment only) in a batch of its own, sentiment switched off.
    examples = [
        Example("你好", 0, NO_LABEL, None),
        Example("太差了", NO_LABEL, 2, None),
    ]
    config = TrainingConfig(
        epochs=1, batch_size=1, sentiment_loss_weight=0.0, show_progress=False
    )

    report = fine_tune(network, forward, examples, [], config, reset_heads=True)

    assert math.isfinite(report.train_loss)


def test_joint_loss_weighs_the_heads_over_their_labels() -> None:
    # Uniform logits: each cross-entropy is the log of its number of classes.
    logits = Logits(torch.zeros(2, 2), torch.zeros(2, 3), torch.zeros(2, 4, 5))
    targets = Targets(
        torch.tensor([0, NO_LABEL]),
        torch.tensor([NO_LABEL, NO_LABEL]),
        torch.tensor([[NO_LABEL, 1, 0, NO_LABEL], [NO_LABEL] * 4]),
    )
    config = TrainingConfig(sentiment_loss_weight=3.0, entity_loss_weight=0.5)

    loss = joint_loss(logits, targets, config)

    assert loss.item() == pytest.approx(math.log(2) + 0.5 * math.log(5))
    without_entities = joint_loss(logits._replace(entity=None), targets, config)
    assert without_entities.item() == pytest.approx(math.log(2))
    sentiments = targets._replace(sentiment=torch.tensor([1, 2]))
    assert joint_loss(logits, sentiments, config).item() == pytest.approx(
        math.log(2) + 3 * math.log(3) + 0.5 * math.log(5)
    )


def test_length_grouped_batches_keep_every_example_once_in_similar_lengths() -> None:
    rng = random.Random(0)
    lengths = [rng.randint(1, 60) for _ in range(230)]
    examples = [
        Example(f"{i:03d}" + "字" * n, NO_LABEL, 0, None) for i, n in enumerate(lengths)
    ]

    batches = length_grouped_batches(examples, 4, random.Random(1))

    flat = [e for batch in batches for e in batch]
    assert sorted(flat, key=lambda e: e.text) == examples  # each exactly once
    assert all(1 <= len(batch) <= 4 for batch in batches)
    # Sorted within pools of 50 batches: a batch spans few lengths ...
    spreads = [
        max(len(e.text) for e in batch) - min(len(e.text) for e in batch)
        for batch in batches
    ]
    assert sum(spreads) / len(spreads) < 2, spreads
    # ... while the batches come in random order, not by length.
    firsts = [len(batch[0].text) for batch in batches]
    assert firsts != sorted(firsts) and firsts != sorted(firsts, reverse=True)
    assert length_grouped_batches(examples, 4, random.Random(1)) == batches
    assert length_grouped_batches(examples, 4, random.Random(2)) != batches
    assert length_grouped_batches([], 4, random.Random(1)) == []
