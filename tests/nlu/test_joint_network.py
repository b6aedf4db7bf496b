"""The joint network's outputs and where its parts come from."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from transformers import PreTrainedTokenizerBase

from nlu.joint_network import (
    JointNetwork,
    Logits,
    autocast,
    check_max_length,
    cpu_has_bf16,
    load_backbone,
    load_heads,
    resolve_device,
)


def _logits(
    network: JointNetwork, texts: list[str], tokenizer: PreTrainedTokenizerBase
) -> Logits:
    inputs = tokenizer(texts, padding=True, return_tensors="pt")
    network.eval()
    with torch.inference_mode():
        logits: Logits = network(inputs["input_ids"], inputs["attention_mask"])
    return logits


def _layers(encoder: nn.Module) -> nn.ModuleList:
    return cast(nn.ModuleList, encoder.get_submodule("encoder.layer"))


@pytest.mark.parametrize("tags", [0, 1])
def test_without_entity_types_there_is_no_entity_head(
    tiny_backbone: Path, tags: int
) -> None:
    encoder, tokenizer = load_backbone(str(tiny_backbone))
    network = JointNetwork(encoder, intents=2, sentiments=3, entity_tags=tags)

    logits = _logits(network, ["你好", "衣服多少钱"], tokenizer)

    assert network.entity_head is None
    assert logits.intent.shape == (2, 2)
    assert logits.sentiment.shape == (2, 3)
    assert logits.entity is None


def test_the_entity_head_tags_every_token(tiny_backbone: Path) -> None:
    encoder, tokenizer = load_backbone(str(tiny_backbone))
    network = JointNetwork(encoder, intents=2, sentiments=3, entity_tags=5)

    logits = _logits(network, ["你好", "衣服多少钱"], tokenizer)

    # [CLS] 衣 服 多 少 钱 [SEP]: seven tokens, "你好" padded to them.
    assert logits.entity is not None and logits.entity.shape == (2, 7, 5)
    assert logits.intent.shape == (2, 2)


def test_reset_heads_leaves_the_encoder_alone(tiny_backbone: Path) -> None:
    encoder, _ = load_backbone(str(tiny_backbone))
    network = JointNetwork(encoder, 2, 3, 5)
    before = {k: v.clone() for k, v in network.state_dict().items()}

    network.reset_heads()

    after = network.state_dict()
    for name, tensor in before.items():
        assert torch.equal(tensor, after[name]) == name.startswith("encoder."), name


# --- loading ------------------------------------------------------------------------


def test_a_bert_vocab_without_tokenizer_json_gets_a_fast_tokenizer(
    tiny_backbone: Path,
) -> None:
    _, tokenizer = load_backbone(str(tiny_backbone))

    assert tokenizer.is_fast
    offsets = tokenizer(["衣服 hello"], return_offsets_mapping=True)["offset_mapping"]
    assert offsets == [[(0, 0), (0, 1), (1, 2), (3, 8), (0, 0)]]


def test_the_unused_pooler_is_left_out(tiny_backbone: Path) -> None:
    encoder, _ = load_backbone(str(tiny_backbone))

    assert getattr(encoder, "pooler", "no attribute") is None
    assert not any(name.startswith("pooler.") for name in encoder.state_dict())


def test_encoder_layers_keeps_the_lower_layers(tiny_backbone: Path) -> None:
    full, _ = load_backbone(str(tiny_backbone))
    cut, _ = load_backbone(str(tiny_backbone), layers=1)

    assert len(_layers(cut)) == cut.config.num_hidden_layers == 1
    assert len(_layers(full)) == full.config.num_hidden_layers == 2
    kept = cut.state_dict()
    assert not any(name.startswith("encoder.layer.1.") for name in kept)
    for name, tensor in kept.items():
        assert torch.equal(tensor, full.state_dict()[name]), name


@pytest.mark.parametrize("layers", [0, -1, 3])
def test_a_layer_count_the_encoder_does_not_have_is_a_value_error(
    tiny_backbone: Path, layers: int
) -> None:
    with pytest.raises(ValueError, match=f"between 1 and 2.*got {layers}"):
        load_backbone(str(tiny_backbone), layers=layers)


def test_heads_of_another_network_are_refused(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    encoder, _ = load_backbone(str(tiny_backbone))
    for name, network in (
        ("with", JointNetwork(encoder, 2, 3, 5)),
        ("without", JointNetwork(encoder, 2, 3)),
    ):
        heads = {
            k: v.contiguous()
            for k, v in network.state_dict().items()
            if not k.startswith("encoder.")
        }
        save_file(heads, tmp_path / f"{name}.safetensors")

    load_heads(JointNetwork(encoder, 2, 3, 5), tmp_path / "with.safetensors")
    with pytest.raises(ValueError, match=r"unexpected \['entity_head"):
        load_heads(JointNetwork(encoder, 2, 3), tmp_path / "with.safetensors")
    with pytest.raises(ValueError, match=r"missing \['entity_head"):
        load_heads(JointNetwork(encoder, 2, 3, 5), tmp_path / "without.safetensors")


def test_max_length_must_fit_the_position_embeddings(tiny_backbone: Path) -> None:
    encoder, _ = load_backbone(str(tiny_backbone))

    check_max_length(2, encoder)
    check_max_length(encoder.config.max_position_embeddings, encoder)
    for bad in (1, encoder.config.max_position_embeddings + 1):
        with pytest.raises(ValueError, match="max_length"):
            check_max_length(bad, encoder)


# --- devices and precision ----------------------------------------------------------


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == (
        "cuda" if torch.cuda.is_available() else "cpu"
    )
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")


def test_cpu_autocast_only_when_asked() -> None:
    cpu = torch.device("cpu")
    square = torch.ones(2, 2)

    with autocast(cpu):
        assert (square @ square).dtype == torch.float32
    with autocast(cpu, cpu_bf16=True):
        assert (square @ square).dtype == torch.bfloat16
    assert isinstance(cpu_has_bf16(), bool)
