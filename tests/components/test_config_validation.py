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
    ("key", "value"),
    [
        ("model_name_or_path", ""),
        ("model_name_or_path", "   "),
        ("max_length", 1),
        ("epochs", 0),
        ("epochs", 2.5),
        ("batch_size", True),
        ("learning_rate", 0),
        ("head_learning_rate", "fast"),
        ("ngram_learning_rate", 0),
        ("nlu_example_repeats", 0),
        ("ngram_buckets", -1),
        ("ngram_dim", 0),
        ("ngram_max_n", 9),
        ("warmup_ratio", 1.0),
        ("weight_decay", -0.1),
        ("early_stopping_patience", -1),
        ("dev_fraction", 1),
        ("random_seed", -1),
        ("device", "gpu"),
        ("num_threads", 0),
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
