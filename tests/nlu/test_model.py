"""NluModel on a tiny random BERT (fast, every code path) and on the real e5 encoder."""

from __future__ import annotations

import json
import math
import re
import shutil
import socket
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import BertJapaneseTokenizer

from nlu.constants import SENTIMENT_LABELS
from nlu.entity_tags import tag_names
from nlu.model import (
    HEADS_FILE,
    LABELS_FILE,
    EntitySpan,
    LabelledText,
    ModelLoadError,
    NluModel,
    Prediction,
    TrainingConfig,
    TrainingReport,
)

ToyModel = tuple[NluModel, TrainingReport]

_MARKUP = re.compile(r"\[([^\]]+)\]\((\w+)\)")


def _annotated(
    markup: str, intent: str | None = None, sentiment: str | None = None
) -> LabelledText:
    """A text with Rasa-style entity markup: "[衣服](product)多少钱"."""
    text, spans, last = "", [], 0
    for match in _MARKUP.finditer(markup):
        text += markup[last : match.start()]
        spans.append(EntitySpan(match[2], len(text), len(text) + len(match[1])))
        text += match[1]
        last = match.end()
    return LabelledText(text + markup[last:], intent, sentiment, tuple(spans))


TOY_TYPES = ("product", "color")
# Every character is in the tiny backbone's vocabulary (conftest.py).
TOY_INTENTS = {
    "greet": (
        "你好",
        "您好",
        "早上好",
        "晚上好",
        "你好呀",
        "嗨你好",
        "您好在吗",
        "早安",
    ),
    "ask_price": (
        "[衣服](product)多少钱",
        "[鞋子](product)价格多少",
        "这个[裙子](product)多少钱",
        "[帽子](product)贵吗",
        "[红色](color)[衣服](product)有优惠吗",
        "[黑色](color)[鞋子](product)打折吗",
        "[白色](color)的[袜子](product)便宜一点",
        "价格是多少",
    ),
    "complain": (
        "[衣服](product)质量太差了",
        "发货太慢",
        "[鞋子](product)坏了",
        "我要投诉",
        "很失望",
        "[蓝色](color)[裙子](product)我要退款",
        "[帽子](product)[袜子](product)太差",
        "太生气了",
    ),
}
TOY_SENTIMENTS = {"greet": "positive", "ask_price": "neutral", "complain": "negative"}
SENTIMENT_ONLY = (
    LabelledText("很喜欢，很满意", sentiment="positive"),
    LabelledText("不错，推荐", sentiment="positive"),
    LabelledText("太棒了，开心", sentiment="positive"),
    LabelledText("质量很差，失望", sentiment="negative"),
    LabelledText("坏了，生气", sentiment="negative"),
    LabelledText("衣服颜色", sentiment="neutral"),
)
TOY_TRAIN = (
    *(
        _annotated(text, intent, TOY_SENTIMENTS[intent])
        for intent, texts in TOY_INTENTS.items()
        for text in texts
    ),
    *SENTIMENT_ONLY,
)
TOY_CONFIG = TrainingConfig(
    max_length=16,
    epochs=16,
    batch_size=8,
    learning_rate=2e-3,
    head_learning_rate=1e-2,
    warmup_ratio=0.0,
    # The tiny backbone's embeddings are random: there is nothing to keep.
    freeze_embeddings=False,
    patience=0,
    seed=7,
    show_progress=False,
)
ODD_TEXTS = (
    "",
    "   ",
    "😀😀",
    "？？？",
    "好" * 10_000,
    "hello 你好 привет مرحبا 123 !!",
    "\n\t\u200b",
)
# Odd texts around entity names the toy model knows, so predicted spans have to
# land on the right characters of the original text.
ODD_ENTITY_TEXTS = (
    "  衣服  多少钱  ",
    "衣服😀鞋子",
    "Ｈｅｌｌｏ 红色衣服",
    "hello 衣服 привет مرحبا 红色 123",
    "café 裙子\u200b多少钱",
    "衣服" * 5_000,
    "红\n色\t衣 服",
)


def _fresh(
    backbone: Path, entity_types: Sequence[str] = TOY_TYPES, **kwargs: object
) -> NluModel:
    return NluModel.from_backbone(
        str(backbone),
        list(TOY_INTENTS),
        entity_types=entity_types,
        max_length=16,
        device="cpu",
        **kwargs,  # type: ignore[arg-type]
    )


def _spans(prediction: Prediction) -> tuple[EntitySpan, ...]:
    return tuple(EntitySpan(e.entity, e.start, e.end) for e in prediction.entities)


def _assert_valid(
    prediction: Prediction,
    intents: set[str],
    text: str,
    types: Sequence[str] = TOY_TYPES,
) -> None:
    for ranking, labels in (
        (prediction.intent_ranking, intents),
        (prediction.sentiment_ranking, set(SENTIMENT_LABELS)),
    ):
        assert {label for label, _ in ranking} == labels
        scores = [score for _, score in ranking]
        assert all(type(score) is float and math.isfinite(score) for score in scores)
        assert scores == sorted(scores, reverse=True)
        assert sum(scores) == pytest.approx(1.0, abs=1e-5)
    end = 0
    for entity in prediction.entities:  # in text order, none overlapping
        assert entity.entity in types
        assert end <= entity.start < entity.end <= len(text)
        assert entity.value == text[entity.start : entity.end]
        assert entity.value == entity.value.strip()
        assert type(entity.confidence) is float and 0.0 < entity.confidence <= 1.0
        end = entity.end


@pytest.fixture(scope="module")
def toy_model(
    tiny_backbone: Path,
) -> ToyModel:
    model = _fresh(tiny_backbone)
    return model, model.fit(TOY_TRAIN, [], TOY_CONFIG)


# --- building -----------------------------------------------------------------------


def test_from_backbone_loads_a_local_directory(tiny_backbone: Path) -> None:
    model = _fresh(tiny_backbone)

    assert model.intents == ("greet", "ask_price", "complain")
    assert model.sentiments == SENTIMENT_LABELS
    assert model.entity_types == TOY_TYPES
    assert model.entity_tags == tag_names(TOY_TYPES)
    assert model.device.type == "cpu"
    _assert_valid(model.predict(["你好"])[0], set(TOY_INTENTS), "你好")


def test_missing_backbone_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "model"

    with pytest.raises(ModelLoadError, match=str(missing)):
        NluModel.from_backbone(str(missing), ["a", "b"])


def test_directory_without_weights_is_a_load_error(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    shutil.copy(tiny_backbone / "vocab.txt", tmp_path / "vocab.txt")

    with pytest.raises(ModelLoadError, match=r"config\.json"):
        NluModel.from_backbone(str(tmp_path), ["a", "b"])


def test_hub_id_offline_fails_without_the_network_and_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    attempts: list[object] = []

    def no_network(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)

    with pytest.raises(ModelLoadError, match=r"hub.*pass its path"):
        NluModel.from_backbone("no-such-org/no-such-model", ["a", "b"])
    assert attempts == []


def test_a_backbone_with_only_a_slow_tokenizer_is_a_load_error(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    # Entity spans need a fast tokenizer's character offsets. A plain BERT
    # vocab.txt is converted to a fast tokenizer (the tiny backbone has no
    # tokenizer.json), a tokenizer class without a fast version is not.
    assert not (tiny_backbone / "tokenizer.json").exists()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_backbone / name, tmp_path / name)
    # transformers' constructors are untyped.
    BertJapaneseTokenizer(  # type: ignore[no-untyped-call]
        str(tiny_backbone / "vocab.txt"), word_tokenizer_type="basic"
    ).save_pretrained(tmp_path)

    with pytest.raises(ModelLoadError, match="fast tokenizer"):
        NluModel.from_backbone(str(tmp_path), ["a", "b"])


@pytest.mark.parametrize(
    ("intents", "kwargs"),
    [
        ([], {}),
        (["a", "a"], {}),
        (["a", "b"], {"sentiments": []}),
        (["a", "b"], {"entity_types": ["product", "product"]}),
        (["a", "b"], {"entity_types": "product"}),
        (["a", "b"], {"device": "tpu"}),
        (["a", "b"], {"max_length": 100_000}),
    ],
)
def test_bad_arguments_are_value_errors(
    tiny_backbone: Path, intents: list[str], kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        NluModel.from_backbone(str(tiny_backbone), intents, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("layers", [0, 3])
def test_more_encoder_layers_than_the_backbone_has_is_a_load_error(
    tiny_backbone: Path, layers: int
) -> None:
    with pytest.raises(ValueError, match="encoder_layers must be between 1 and 2"):
        _fresh(tiny_backbone, encoder_layers=layers)


def test_encoder_layers_keeps_the_lower_layers(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    model = _fresh(tiny_backbone, encoder_layers=1)
    model.save(tmp_path / "saved")

    full = load_file(tiny_backbone / "model.safetensors")
    cut = load_file(tmp_path / "saved" / "model.safetensors")
    assert any(name.startswith("encoder.layer.0.") for name in cut)
    assert not any(name.startswith("encoder.layer.1.") for name in cut)
    assert not any(name.startswith("pooler.") for name in cut)
    for name, tensor in cut.items():  # the same weights, in half precision
        assert tensor.equal(full[name].half()), name
    config = json.loads((tmp_path / "saved" / "config.json").read_text())
    assert config["num_hidden_layers"] == 1
    loaded = NluModel.load(tmp_path / "saved", device="cpu")
    _assert_valid(loaded.predict(["衣服多少钱"])[0], set(TOY_INTENTS), "衣服多少钱")


# --- training -----------------------------------------------------------------------


def test_fit_learns_the_toy_set(
    toy_model: ToyModel,
) -> None:
    model, report = toy_model
    labelled = [e for e in TOY_TRAIN if e.intent is not None]

    predictions = model.predict([e.text for e in labelled])

    pairs = list(zip(predictions, labelled, strict=True))
    intent_hits = sum(p.intent_ranking[0][0] == e.intent for p, e in pairs)
    sentiment_hits = sum(p.sentiment_ranking[0][0] == e.sentiment for p, e in pairs)
    entity_hits = sum(_spans(p) == e.entities for p, e in pairs)
    assert intent_hits / len(labelled) >= 0.9
    assert sentiment_hits / len(labelled) >= 0.9
    assert entity_hits / len(labelled) >= 0.9, [
        (e.text, p.entities) for p, e in pairs if _spans(p) != e.entities
    ]
    assert report.epochs_run == report.best_epoch == TOY_CONFIG.epochs
    assert report.dev_loss is None
    assert report.device == "cpu"


def test_rankings_are_complete_sorted_plain_floats(
    toy_model: ToyModel,
) -> None:
    model, _ = toy_model
    texts = ["你好", "衣服多少钱", "太差了"]

    for prediction, text in zip(model.predict(texts, batch_size=2), texts, strict=True):
        _assert_valid(prediction, set(TOY_INTENTS), text)
    assert model.predict([]) == []


def test_odd_texts_give_valid_predictions(
    toy_model: ToyModel,
) -> None:
    model, _ = toy_model
    texts = ODD_TEXTS + ODD_ENTITY_TEXTS

    predictions = model.predict(texts, batch_size=4)

    assert len(predictions) == len(texts)
    for prediction, text in zip(predictions, texts, strict=True):
        _assert_valid(prediction, set(TOY_INTENTS), text)
    # The checks above saw entities, and on the original characters.
    found = {e.value for p in predictions[len(ODD_TEXTS) :] for e in p.entities}
    assert {"衣服", "红色"} <= found, found


def test_a_single_string_is_refused(
    toy_model: ToyModel,
) -> None:
    with pytest.raises(TypeError):
        toy_model[0].predict("你好")


def test_same_seed_gives_the_same_model(tiny_backbone: Path) -> None:
    texts = ["你好", "衣服多少钱", "太差了", *ODD_TEXTS]
    config = TrainingConfig(
        max_length=16, epochs=2, batch_size=8, seed=3, show_progress=False
    )

    first = _fresh(tiny_backbone)
    first.fit(TOY_TRAIN, [], config)
    second = _fresh(tiny_backbone)
    second.fit(TOY_TRAIN, [], config)
    other = _fresh(tiny_backbone)
    other.fit(TOY_TRAIN, [], TrainingConfig(**{**config.__dict__, "seed": 4}))

    assert first.predict(texts) == second.predict(texts)
    assert first.predict(texts) != other.predict(texts)


def test_early_stopping_keeps_the_best_dev_epoch(tiny_backbone: Path) -> None:
    # A dev set that contradicts the training labels gets worse as training
    # fits them, so training stops after `patience` epochs without improvement.
    train = [e for e in TOY_TRAIN if e.intent is not None]
    shifted = {"greet": "ask_price", "ask_price": "complain", "complain": "greet"}
    dev = [LabelledText(e.text, shifted[e.intent or ""]) for e in train]
    config = TrainingConfig(
        max_length=16,
        epochs=20,
        batch_size=8,
        learning_rate=1e-3,
        head_learning_rate=1e-2,
        patience=2,
        show_progress=False,
    )

    report = _fresh(tiny_backbone).fit(train, dev, config)

    assert report.epochs_run < config.epochs
    assert report.best_epoch == report.epochs_run - config.patience
    assert report.dev_loss is not None


def test_unknown_labels_and_unlabelled_sets_are_refused(tiny_backbone: Path) -> None:
    model = _fresh(tiny_backbone)
    config = TrainingConfig(epochs=1, show_progress=False)

    with pytest.raises(ValueError, match="'refund'"):
        model.fit([LabelledText("退款", "refund")], [], config)
    with pytest.raises(ValueError, match="'angry'"):
        model.fit([LabelledText("退款", sentiment="angry")], [], config)
    with pytest.raises(ValueError, match="at least one"):
        model.fit([LabelledText("退款")], [], config)


def test_spans_of_types_the_model_does_not_tag_are_ignored(
    tiny_backbone: Path,
) -> None:
    model = _fresh(tiny_backbone, entity_types=["product"])
    config = TrainingConfig(max_length=16, epochs=1, show_progress=False)

    # Only "annotated, no entity here" is left of the colour: not an error.
    model.fit([_annotated("[红色](color)", "greet")], [], config)

    assert model.entity_types == ("product",)
    for prediction in model.predict(["红色衣服"]):
        _assert_valid(prediction, set(TOY_INTENTS), "红色衣服", ["product"])


def test_entity_annotations_alone_train_the_entity_head(tiny_backbone: Path) -> None:
    model = _fresh(tiny_backbone)
    config = TrainingConfig(max_length=16, epochs=1, show_progress=False)

    report = model.fit([_annotated("[衣服](product)")], [], config)

    assert math.isfinite(report.train_loss) and report.train_loss > 0


def test_entity_annotations_without_entity_types_are_no_label(
    tiny_backbone: Path,
) -> None:
    model = _fresh(tiny_backbone, entity_types=())
    config = TrainingConfig(max_length=16, epochs=1, show_progress=False)

    with pytest.raises(ValueError, match="at least one"):
        model.fit([_annotated("[衣服](product)")], [], config)


def test_a_model_without_entity_types_tags_nothing(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    model = _fresh(tiny_backbone, entity_types=())
    config = TrainingConfig(max_length=16, epochs=1, show_progress=False)

    model.fit(TOY_TRAIN, [], config)  # their entity spans are ignored
    model.save(tmp_path / "saved")
    loaded = NluModel.load(tmp_path / "saved", device="cpu")

    assert model.entity_types == loaded.entity_types == ()
    texts = ["衣服多少钱", *ODD_ENTITY_TEXTS]
    predictions = loaded.predict(texts)
    assert predictions == model.predict(texts)
    assert all(p.entities == () for p in predictions)
    meta = json.loads((tmp_path / "saved" / LABELS_FILE).read_text(encoding="utf-8"))
    assert meta["entity_tags"] == ["O"]


# --- save and load ------------------------------------------------------------------


def test_save_then_load_predicts_the_same(toy_model: ToyModel, tmp_path: Path) -> None:
    model, _ = toy_model
    texts = [e.text for e in TOY_TRAIN] + list(ODD_TEXTS + ODD_ENTITY_TEXTS)

    model.save(tmp_path / "saved")
    loaded = NluModel.load(tmp_path / "saved", device="cpu")

    assert loaded.intents == model.intents
    assert loaded.sentiments == model.sentiments
    assert loaded.entity_tags == model.entity_tags
    assert loaded.entity_types == TOY_TYPES
    assert loaded.max_length == model.max_length
    predictions = model.predict(texts)
    assert loaded.predict(texts) == predictions
    assert sum(len(p.entities) for p in predictions) > 10  # entities compared too


def test_encoder_weights_are_saved_in_half_precision(
    toy_model: ToyModel, tmp_path: Path
) -> None:
    toy_model[0].save(tmp_path / "saved")

    encoder = load_file(tmp_path / "saved" / "model.safetensors")
    heads = load_file(tmp_path / "saved" / HEADS_FILE)

    # Floats in float16; integer buffers (position ids), if saved, stay as they are.
    assert {t.dtype for t in encoder.values()} - {torch.int64} == {torch.float16}
    assert {t.dtype for t in heads.values()} == {torch.float32}
    assert "entity_head.weight" in heads


def test_incomplete_saved_model_is_a_load_error(
    toy_model: ToyModel, tmp_path: Path
) -> None:
    toy_model[0].save(tmp_path / "saved")
    (tmp_path / "saved" / HEADS_FILE).unlink()

    with pytest.raises(ModelLoadError, match=HEADS_FILE):
        NluModel.load(tmp_path / "saved")
    with pytest.raises(ModelLoadError, match="missing"):
        NluModel.load(tmp_path / "empty")


def test_corrupt_heads_are_a_load_error(toy_model: ToyModel, tmp_path: Path) -> None:
    toy_model[0].save(tmp_path / "saved")
    (tmp_path / "saved" / HEADS_FILE).write_bytes(b"not safetensors")

    with pytest.raises(ModelLoadError, match="cannot load"):
        NluModel.load(tmp_path / "saved")


def test_heads_that_do_not_match_the_entity_tags_are_a_load_error(
    toy_model: ToyModel, tmp_path: Path
) -> None:
    toy_model[0].save(tmp_path / "saved")
    labels = tmp_path / "saved" / LABELS_FILE
    meta = json.loads(labels.read_text(encoding="utf-8"))
    labels.write_text(json.dumps({**meta, "entity_tags": ["O"]}))

    with pytest.raises(ModelLoadError, match="entity_head"):
        NluModel.load(tmp_path / "saved")


def test_a_model_saved_before_entities_still_loads(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    model = _fresh(tiny_backbone, entity_types=())
    model.save(tmp_path / "saved")
    labels = tmp_path / "saved" / LABELS_FILE
    meta = json.loads(labels.read_text(encoding="utf-8"))
    del meta["entity_tags"]
    labels.write_text(json.dumps(meta))

    loaded = NluModel.load(tmp_path / "saved", device="cpu")

    assert loaded.entity_types == ()
    assert loaded.predict(["衣服"])[0].entities == ()


def test_lexical_experts_learn_save_and_load(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    model = _fresh(tiny_backbone, lexical_weight=1.0)
    model.fit(TOY_TRAIN, [], TOY_CONFIG)
    labelled = [e for e in TOY_TRAIN if e.intent is not None]
    texts = [e.text for e in TOY_TRAIN] + list(ODD_TEXTS)

    predictions = model.predict([e.text for e in labelled])
    model.save(tmp_path / "saved")
    loaded = NluModel.load(tmp_path / "saved", device="cpu")

    hits = sum(
        p.intent_ranking[0][0] == e.intent
        for p, e in zip(predictions, labelled, strict=True)
    )
    assert hits / len(labelled) >= 0.9
    meta = json.loads((tmp_path / "saved" / LABELS_FILE).read_text(encoding="utf-8"))
    assert meta["lexical_weight"] == 1.0
    assert meta["lexical_heads"] == ["intent", "sentiment"]
    assert {"lexical.json", "lexical.safetensors"} <= {
        p.name for p in (tmp_path / "saved").iterdir()
    }
    assert loaded.predict(texts) == model.predict(texts)
    for prediction, text in zip(loaded.predict(ODD_TEXTS), ODD_TEXTS, strict=True):
        _assert_valid(prediction, set(TOY_INTENTS), text)


def test_the_lexical_weight_changes_the_scores_not_the_entities(
    tiny_backbone: Path,
) -> None:
    model = _fresh(tiny_backbone, lexical_weight=1.0)
    model.fit(TOY_TRAIN, [], TOY_CONFIG)
    texts = [e.text for e in TOY_TRAIN]

    combined = model.predict(texts)
    model.lexical_weight = 0.0
    encoder_only = model.predict(texts)

    assert [p.intent_ranking for p in combined] != [
        p.intent_ranking for p in encoder_only
    ]
    assert [p.entities for p in combined] == [p.entities for p in encoder_only]


def test_a_negative_lexical_weight_is_refused(tiny_backbone: Path) -> None:
    with pytest.raises(ValueError, match="lexical_weight"):
        _fresh(tiny_backbone, lexical_weight=-1.0)


def test_missing_lexical_files_are_a_load_error(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    model = _fresh(tiny_backbone, lexical_weight=1.0)
    model.fit(TOY_TRAIN, [], TOY_CONFIG)
    model.save(tmp_path / "saved")
    (tmp_path / "saved" / "lexical.safetensors").unlink()

    with pytest.raises(ModelLoadError, match="cannot load"):
        NluModel.load(tmp_path / "saved")


# --- int8 ---------------------------------------------------------------------------


def test_a_quantised_model_predicts_but_cannot_be_trained(
    toy_model: ToyModel, tmp_path: Path
) -> None:
    model, _ = toy_model
    model.save(tmp_path / "saved")
    quantised = NluModel.load(tmp_path / "saved", device="cpu")
    texts = [e.text for e in TOY_TRAIN if e.intent] + list(ODD_TEXTS + ODD_ENTITY_TEXTS)

    quantised.quantize()
    predictions = quantised.predict(texts)

    for prediction, text in zip(predictions, texts, strict=True):
        _assert_valid(prediction, set(TOY_INTENTS), text)
    assert predictions != model.predict(texts)  # int8 weights, other scores
    # ... but mostly the same answers.
    same = sum(
        q.intent_ranking[0][0] == p.intent_ranking[0][0]
        for q, p in zip(predictions, model.predict(texts), strict=True)
    )
    assert same >= 0.8 * len(texts)
    with pytest.raises(ValueError, match="quantised"):
        quantised.fit(TOY_TRAIN, [], TOY_CONFIG)
    with pytest.raises(ValueError, match="quantised"):
        quantised.save(tmp_path / "again")


# --- a real pretrained encoder ------------------------------------------------------


def _e5_example(markup: str, intent: str) -> LabelledText:
    return _annotated(markup, intent, "positive" if intent == "greet" else "neutral")


E5_TRAIN = [
    *(
        _e5_example(text, "greet")
        for text in ("你好", "您好", "早上好", "在吗", "你好呀", "晚上好")
    ),
    *(
        _e5_example(text, "ask_price")
        for text in (
            "[连衣裙](product)多少钱",
            "这双[运动鞋](product)多少钱",
            "[羽绒服](product)打折吗",
            "[牛仔裤](product)什么价格",
            "[衬衫](product)贵吗",
            "[手机壳](product)多少钱",
        )
    ),
    *(
        _e5_example(text, "ask_shipping")
        for text in (
            "发货到[上海](city)要几天",
            "寄到[北京](city)多久",
            "[广州](city)能包邮吗",
            "[成都](city)几天能到",
            "发到[杭州](city)要多久",
            "[南京](city)包邮吗",
        )
    ),
]
# Products, cities and phrasings the training set does not have.
E5_UNSEEN = [
    _annotated("[卫衣](product)多少钱", "ask_price"),
    _annotated("[T恤](product)打折吗", "ask_price"),
    _annotated("寄到[深圳](city)几天到", "ask_shipping"),
    _annotated("[西安](city)包邮吗", "ask_shipping"),
    _annotated("[重庆](city)要几天", "ask_shipping"),
    _annotated("您好在吗", "greet"),
]


def test_fine_tunes_the_lower_layers_of_pretrained_e5(
    e5_zh: Path, tmp_path: Path
) -> None:
    # Two of twelve layers and 18 steps: seconds on a laptop CPU, yet the
    # pretrained encoder carries intents and entity types to unseen words.
    model = NluModel.from_backbone(
        str(e5_zh),
        ["ask_price", "ask_shipping", "greet"],
        entity_types=["city", "product"],
        max_length=16,
        device="cpu",
        encoder_layers=2,
    )
    config = TrainingConfig(
        max_length=16,
        epochs=6,
        batch_size=6,
        learning_rate=3e-4,
        head_learning_rate=1e-2,
        warmup_ratio=0.0,
        patience=0,
        seed=1,
        show_progress=False,
    )

    report = model.fit(E5_TRAIN, [], config)
    model.save(tmp_path / "e5")
    loaded = NluModel.load(tmp_path / "e5", device="cpu")

    texts = [e.text for e in E5_TRAIN + E5_UNSEEN]
    predictions = model.predict(texts)
    assert loaded.predict(texts) == predictions
    seen = list(zip(predictions, E5_TRAIN, strict=False))
    unseen = list(zip(predictions[len(E5_TRAIN) :], E5_UNSEEN, strict=True))
    assert sum(_spans(p) == e.entities for p, e in seen) >= len(seen) - 1, seen
    assert sum(p.intent_ranking[0][0] == e.intent for p, e in unseen) >= 5, unseen
    assert sum(_spans(p) == e.entities for p, e in unseen) >= 4, unseen
    for prediction, text in zip(predictions, texts, strict=True):
        _assert_valid(
            prediction, {"ask_price", "ask_shipping", "greet"}, text, model.entity_types
        )
    assert report.epochs_run == config.epochs
    saved = json.loads((tmp_path / "e5" / "config.json").read_text())
    assert saved["num_hidden_layers"] == 2
    # Two layers in half precision: a fraction of the 12-layer float32 file.
    weights = (tmp_path / "e5" / "model.safetensors").stat().st_size
    assert weights < 0.3 * (e5_zh / "model.safetensors").stat().st_size
