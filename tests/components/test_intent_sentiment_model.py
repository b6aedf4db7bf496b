from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import pytest

from components.constants import SENTIMENT_LABELS
from components.intent_sentiment_model import (
    HEADS_FILE,
    LABELS_FILE,
    IntentSentimentModel,
    LabelledText,
    ModelLoadError,
    NgramSpec,
    Prediction,
    TrainingConfig,
    TrainingReport,
)

ToyModel = tuple[IntentSentimentModel, TrainingReport]

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
        "多少钱",
        "价格多少",
        "这个多少钱",
        "贵吗",
        "有优惠吗",
        "打折吗",
        "便宜一点",
        "价格是多少",
    ),
    "complain": (
        "质量太差了",
        "发货太慢",
        "东西坏了",
        "我要投诉",
        "很失望",
        "我要退款",
        "客服太差",
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
        LabelledText(text, intent, TOY_SENTIMENTS[intent])
        for intent, texts in TOY_INTENTS.items()
        for text in texts
    ),
    *SENTIMENT_ONLY,
)
TOY_CONFIG = TrainingConfig(
    max_length=16,
    epochs=12,
    batch_size=8,
    learning_rate=1e-3,
    head_learning_rate=1e-2,
    warmup_ratio=0.0,
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


def _fresh(backbone: Path) -> IntentSentimentModel:
    return IntentSentimentModel.from_backbone(
        str(backbone), list(TOY_INTENTS), max_length=16, device="cpu"
    )


def _assert_valid(prediction: Prediction, intents: set[str]) -> None:
    for ranking, labels in (
        (prediction.intent_ranking, intents),
        (prediction.sentiment_ranking, set(SENTIMENT_LABELS)),
    ):
        assert {label for label, _ in ranking} == labels
        scores = [score for _, score in ranking]
        assert all(type(score) is float and math.isfinite(score) for score in scores)
        assert scores == sorted(scores, reverse=True)
        assert sum(scores) == pytest.approx(1.0, abs=1e-5)


@pytest.fixture(scope="module")
def toy_model(
    tiny_backbone: Path,
) -> ToyModel:
    model = _fresh(tiny_backbone)
    return model, model.fit(TOY_TRAIN, [], TOY_CONFIG)


def test_from_backbone_loads_a_local_directory(tiny_backbone: Path) -> None:
    model = _fresh(tiny_backbone)

    assert model.intents == ("greet", "ask_price", "complain")
    assert model.sentiments == SENTIMENT_LABELS
    assert model.device.type == "cpu"
    _assert_valid(model.predict(["你好"])[0], set(TOY_INTENTS))


def test_missing_backbone_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "model"

    with pytest.raises(ModelLoadError, match=str(missing)):
        IntentSentimentModel.from_backbone(str(missing), ["a", "b"])


def test_directory_without_weights_is_a_load_error(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    shutil.copy(tiny_backbone / "vocab.txt", tmp_path / "vocab.txt")

    with pytest.raises(ModelLoadError, match=r"config\.json"):
        IntentSentimentModel.from_backbone(str(tmp_path), ["a", "b"])


def test_hub_id_offline_fails_fast_and_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()

    with pytest.raises(ModelLoadError, match=r"hub.*pass its path"):
        IntentSentimentModel.from_backbone("no-such-org/no-such-model", ["a", "b"])
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(
    ("intents", "kwargs"),
    [
        ([], {}),
        (["a", "a"], {}),
        (["a", "b"], {"device": "tpu"}),
        (["a", "b"], {"max_length": 100_000}),
    ],
)
def test_bad_arguments_are_value_errors(
    tiny_backbone: Path, intents: list[str], kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        IntentSentimentModel.from_backbone(str(tiny_backbone), intents, **kwargs)  # type: ignore[arg-type]


def test_fit_learns_the_toy_set(
    toy_model: ToyModel,
) -> None:
    model, report = toy_model
    labelled = [e for e in TOY_TRAIN if e.intent is not None]

    predictions = model.predict([e.text for e in labelled])

    intent_hits = sum(
        p.intent_ranking[0][0] == e.intent
        for p, e in zip(predictions, labelled, strict=True)
    )
    sentiment_hits = sum(
        p.sentiment_ranking[0][0] == e.sentiment
        for p, e in zip(predictions, labelled, strict=True)
    )
    assert intent_hits / len(labelled) >= 0.9
    assert sentiment_hits / len(labelled) >= 0.9
    assert report.epochs_run == report.best_epoch == TOY_CONFIG.epochs
    assert report.dev_loss is None
    assert report.device == "cpu"


def test_rankings_are_complete_sorted_plain_floats(
    toy_model: ToyModel,
) -> None:
    model, _ = toy_model

    for prediction in model.predict(["你好", "多少钱", "太差了"], batch_size=2):
        _assert_valid(prediction, set(TOY_INTENTS))
    assert model.predict([]) == []


def test_odd_texts_give_valid_predictions(
    toy_model: ToyModel,
) -> None:
    model, _ = toy_model

    predictions = model.predict(ODD_TEXTS)

    assert len(predictions) == len(ODD_TEXTS)
    for prediction in predictions:
        _assert_valid(prediction, set(TOY_INTENTS))


def test_a_single_string_is_refused(
    toy_model: ToyModel,
) -> None:
    with pytest.raises(TypeError):
        toy_model[0].predict("你好")


def test_save_then_load_predicts_the_same(toy_model: ToyModel, tmp_path: Path) -> None:
    model, _ = toy_model
    texts = [e.text for e in TOY_TRAIN] + list(ODD_TEXTS)

    model.save(tmp_path / "saved")
    loaded = IntentSentimentModel.load(tmp_path / "saved", device="cpu")

    assert loaded.intents == model.intents
    assert loaded.sentiments == model.sentiments
    assert loaded.max_length == model.max_length
    assert loaded.predict(texts) == model.predict(texts)


def test_incomplete_saved_model_is_a_load_error(
    toy_model: ToyModel, tmp_path: Path
) -> None:
    toy_model[0].save(tmp_path / "saved")
    (tmp_path / "saved" / HEADS_FILE).unlink()

    with pytest.raises(ModelLoadError, match=HEADS_FILE):
        IntentSentimentModel.load(tmp_path / "saved")
    with pytest.raises(ModelLoadError, match="missing"):
        IntentSentimentModel.load(tmp_path / "empty")


def test_corrupt_heads_are_a_load_error(toy_model: ToyModel, tmp_path: Path) -> None:
    toy_model[0].save(tmp_path / "saved")
    (tmp_path / "saved" / HEADS_FILE).write_bytes(b"not safetensors")

    with pytest.raises(ModelLoadError, match="cannot load"):
        IntentSentimentModel.load(tmp_path / "saved")


def test_same_seed_gives_the_same_model(tiny_backbone: Path) -> None:
    texts = ["你好", "多少钱", "太差了", *ODD_TEXTS]
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


def test_ngram_heads_learn_save_and_load(tiny_backbone: Path, tmp_path: Path) -> None:
    spec = NgramSpec(buckets=512, dim=8, max_n=2)
    model = IntentSentimentModel.from_backbone(
        str(tiny_backbone), list(TOY_INTENTS), max_length=16, device="cpu", ngrams=spec
    )
    model.fit(TOY_TRAIN, [], TOY_CONFIG)
    labelled = [e for e in TOY_TRAIN if e.intent is not None]
    texts = [e.text for e in TOY_TRAIN] + list(ODD_TEXTS)

    predictions = model.predict([e.text for e in labelled])
    model.save(tmp_path / "saved")
    loaded = IntentSentimentModel.load(tmp_path / "saved", device="cpu")

    hits = sum(
        p.intent_ranking[0][0] == e.intent
        for p, e in zip(predictions, labelled, strict=True)
    )
    assert hits / len(labelled) >= 0.9
    meta = json.loads((tmp_path / "saved" / LABELS_FILE).read_text(encoding="utf-8"))
    assert meta["ngrams"] == spec.to_dict()
    assert loaded.predict(texts) == model.predict(texts)
    for prediction in loaded.predict(list(ODD_TEXTS)):
        _assert_valid(prediction, set(TOY_INTENTS))


def test_heads_saved_without_ngrams_do_not_load_with_them(
    toy_model: ToyModel, tmp_path: Path
) -> None:
    toy_model[0].save(tmp_path / "saved")
    labels = tmp_path / "saved" / LABELS_FILE
    meta = json.loads(labels.read_text(encoding="utf-8"))
    labels.write_text(json.dumps({**meta, "ngrams": NgramSpec().to_dict()}))

    with pytest.raises(ModelLoadError, match="cannot load"):
        IntentSentimentModel.load(tmp_path / "saved")


ENGLISH_INTENTS = {
    "greet": (
        "hello",
        "hi there",
        "good morning",
        "hey, how are you",
        "good evening",
        "hello, is anyone there?",
        "hi, nice to meet you",
        "hey there",
        "greetings",
        "good afternoon",
    ),
    "goodbye": (
        "bye",
        "goodbye",
        "see you later",
        "see you tomorrow",
        "bye bye",
        "talk to you later",
        "have a nice day, bye",
        "I have to go now",
        "farewell",
        "catch you later",
    ),
    "ask_price": (
        "how much is this",
        "what is the price",
        "how much does it cost",
        "what does this cost",
        "is it expensive",
        "price please",
        "how much for the shoes",
        "what's the price of this jacket",
        "can you tell me the cost",
        "how much do I have to pay",
    ),
    "complain": (
        "this is terrible",
        "my order arrived broken",
        "the quality is awful",
        "I am very disappointed",
        "delivery was far too slow",
        "this product is bad",
        "I want a refund, it broke",
        "worst service ever",
        "the item is damaged",
        "I am angry about my order",
    ),
}
ENGLISH_SENTIMENTS = {
    "greet": "positive",
    "goodbye": "neutral",
    "ask_price": "neutral",
    "complain": "negative",
}
ENGLISH_UNSEEN = (
    ("hello my friend", "greet"),
    ("bye for now", "goodbye"),
    ("what is the cost of this bag", "ask_price"),
    ("the package came damaged and late", "complain"),
    ("hi, good to see you", "greet"),
    ("how much are these trousers", "ask_price"),
)


def test_fine_tunes_pretrained_minilm(minilm_path: Path, tmp_path: Path) -> None:
    train = [
        LabelledText(text, intent, ENGLISH_SENTIMENTS[intent])
        for intent, texts in ENGLISH_INTENTS.items()
        for text in texts
    ]
    config = TrainingConfig(
        max_length=32,
        epochs=6,
        batch_size=8,
        learning_rate=1e-4,
        head_learning_rate=5e-3,
        seed=1,
        num_threads=2,
        show_progress=False,
    )
    model = IntentSentimentModel.from_backbone(
        str(minilm_path), list(ENGLISH_INTENTS), max_length=32, device="cpu"
    )

    report = model.fit(train, [], config)
    model.save(tmp_path / "minilm")
    loaded = IntentSentimentModel.load(tmp_path / "minilm", device="cpu")

    texts = [text for text, _ in ENGLISH_UNSEEN]
    predictions = model.predict(texts)
    assert loaded.predict(texts) == predictions
    hits = sum(
        p.intent_ranking[0][0] == intent
        for p, (_, intent) in zip(predictions, ENGLISH_UNSEEN, strict=True)
    )
    assert hits >= len(ENGLISH_UNSEEN) - 1, predictions
    complaint = predictions[3]
    assert complaint.sentiment_ranking[0][0] == "negative"
    assert report.epochs_run == config.epochs
