from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlu.lexical_model import (
    HeadData,
    LexicalModel,
    LexicalSpec,
    normalise,
    product_of_experts,
)

INTENTS = ("greet", "ask_price", "complain")
SENTIMENTS = ("positive", "neutral", "negative")
TEXTS = {
    "greet": ["你好", "您好呀", "早上好", "hi 你好"],
    "ask_price": ["多少钱", "X5 Pro 多少钱", "价格多少", "这个啥价"],
    "complain": ["太差了", "质量太差", "发货太慢了", "差评"],
}
MOOD = {"greet": "positive", "ask_price": "neutral", "complain": "negative"}


def _data() -> dict[str, HeadData]:
    texts = [t for ts in TEXTS.values() for t in ts]
    intents = [i for i, ts in TEXTS.items() for _ in ts]
    return {
        "intent": HeadData(texts, intents, INTENTS),
        "sentiment": HeadData(
            [*texts, "很喜欢"], [*(MOOD[i] for i in intents), "positive"], SENTIMENTS
        ),
    }


@pytest.fixture(scope="module")
def model() -> LexicalModel:
    return LexicalModel.fit(_data())


def test_learns_each_head_in_its_label_order(model: LexicalModel) -> None:
    probs = model.probabilities(["x5 pro 多少钱?", "质量太差了"])

    assert model.heads == ("intent", "sentiment")
    assert probs["intent"].shape == (2, 3) and probs["sentiment"].shape == (2, 3)
    assert [INTENTS[i] for i in probs["intent"].argmax(axis=1)] == [
        "ask_price",
        "complain",
    ]
    assert SENTIMENTS[int(probs["sentiment"][1].argmax())] == "negative"
    for rows in probs.values():
        assert np.allclose(rows.sum(axis=1), 1.0)


def test_full_width_and_case_read_as_half_width_lower_case() -> None:
    assert normalise("ＸＸ５ Ｐｒｏ") == "xx5 pro"


def test_save_and_load_give_the_same_probabilities(
    model: LexicalModel, tmp_path: Path
) -> None:
    model.save(tmp_path)
    loaded = LexicalModel.load(tmp_path)
    texts = ["", "😀", "多少钱", "价" * 2000]

    before, after = model.probabilities(texts), loaded.probabilities(texts)
    assert loaded.heads == model.heads and loaded.spec == model.spec
    for head in before:
        assert np.array_equal(before[head], after[head])


def test_labels_without_examples_get_next_to_no_probability() -> None:
    data = {"intent": HeadData(["你好", "多少钱"], ["greet", "ask_price"], INTENTS)}
    probs = LexicalModel.fit(data).probabilities(["你好", "多少钱", "差评"])["intent"]

    assert (probs[:, INTENTS.index("complain")] < 1e-6).all()
    assert INTENTS[int(probs[0].argmax())] == "greet"
    # One class only: it takes everything.
    one = {"intent": HeadData(["你好"], ["greet"], INTENTS)}
    assert LexicalModel.fit(one).probabilities(["?"])["intent"][0].argmax() == 0


def test_repeated_examples_count_once() -> None:
    data = _data()
    doubled = {
        head: HeadData([*d.texts, *d.texts], [*d.targets, *d.targets], d.labels)
        for head, d in data.items()
    }
    texts = ["多少钱", "你好"]

    single = LexicalModel.fit(data).probabilities(texts)
    twice = LexicalModel.fit(doubled).probabilities(texts)
    assert all(np.allclose(single[h], twice[h]) for h in single)


def test_bad_training_data_is_refused() -> None:
    with pytest.raises(ValueError, match="needs examples"):
        LexicalModel.fit({"intent": HeadData([], [], INTENTS)})
    with pytest.raises(ValueError, match="'refund'"):
        LexicalModel.fit({"intent": HeadData(["退款"], ["refund"], INTENTS)})


def test_a_corrupt_save_is_refused(model: LexicalModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    (tmp_path / "lexical.json").write_text(
        (tmp_path / "lexical.json").read_text().replace('"idf"', '"no_idf"')
    )
    with pytest.raises(KeyError):
        LexicalModel.load(tmp_path)


def test_product_of_experts_multiplies_and_renormalises() -> None:
    deep = np.array([[0.6, 0.3, 0.1]])
    lexical = np.array([[0.2, 0.6, 0.2]])

    combined = product_of_experts(deep, lexical, 1.0)

    expected = deep * lexical / (deep * lexical).sum()
    assert np.allclose(combined, expected)
    assert product_of_experts(deep, lexical, 0.0) is deep
    # A zero from one expert is no crash, only a very small share.
    assert np.isfinite(product_of_experts(deep, np.array([[1.0, 0.0, 0.0]]), 2.0)).all()


def test_the_spec_sets_the_regularisation() -> None:
    loose = LexicalModel.fit(_data(), LexicalSpec(c=100.0)).probabilities(["多少钱"])
    tight = LexicalModel.fit(_data(), LexicalSpec(c=0.01)).probabilities(["多少钱"])

    assert loose["intent"].max() > tight["intent"].max()
