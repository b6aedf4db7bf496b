"""Every config key is checked, and a wrong value names the key to change."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.exceptions import InvalidConfigException

from components.bert_intent_sentiment import BertIntentSentimentClassifier
from components.config_validation import validate_config


def _config(**overrides: Any) -> dict[str, Any]:
    config = BertIntentSentimentClassifier.get_default_config()
    config.update(model_name_or_path="some/backbone")
    config.update(overrides)
    return config


def test_default_config_with_a_backbone_is_valid() -> None:
    validate_config(_config(), need_backbone=True)
    validate_config(_config(model_name_or_path=None), need_backbone=False)


@pytest.mark.parametrize(
    "overrides",
    [
        {"encoder_layers": 1},
        {"encoder_layers": 12},
        {"entity_loss_weight": 0},
        {"entity_loss_weight": 2.5},
        {"skip_regex_entities": False},
        {"freeze_embeddings": False},
        {"cpu_bf16": False},
        {"cpu_int8": False},
    ],
)
def test_new_keys_take_their_documented_values(overrides: dict[str, Any]) -> None:
    validate_config(_config(**overrides), need_backbone=True)


@pytest.mark.parametrize(
    "key",
    sorted(
        set(BertIntentSentimentClassifier.get_default_config()) - {"model_name_or_path"}
    ),
)
def test_every_config_key_is_checked(key: str) -> None:
    with pytest.raises(InvalidConfigException, match=f"'{key}'"):
        validate_config(_config(**{key: object()}), need_backbone=True)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("model_name_or_path", ""),
        ("model_name_or_path", "   "),
        ("encoder_layers", 0),
        ("encoder_layers", "2"),
        ("max_length", 1),
        ("epochs", 0),
        ("epochs", 2.5),
        ("batch_size", True),
        ("learning_rate", 0),
        ("head_learning_rate", "fast"),
        ("nlu_example_repeats", 0),
        ("lexical_weight", -0.5),
        ("lexical_weight", "1"),
        ("lexical_c", 0),
        ("warmup_ratio", 1.0),
        ("weight_decay", -0.1),
        ("entity_loss_weight", -1),
        ("skip_regex_entities", "yes"),
        ("freeze_embeddings", None),
        ("early_stopping_patience", -1),
        ("dev_fraction", 1),
        ("random_seed", -1),
        ("device", "gpu"),
        ("num_threads", 0),
        ("cpu_bf16", 1),
        ("cpu_int8", "true"),
        ("ranking_length", -1),
        ("use_review_corpus", "yes"),
        ("review_corpus_limit", -5),
        ("extra_sentiment_corpus", "/no/such/corpus.tsv"),
        ("show_progress", None),
    ],
)
def test_bad_config_values_say_what_to_change(key: str, value: Any) -> None:
    with pytest.raises(InvalidConfigException, match=key):
        validate_config(_config(**{key: value}), need_backbone=True)
