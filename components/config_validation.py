"""Checks of ``BertIntentSentimentClassifier``'s config values.

Every key has a check and a description of what it expects, so a wrong value in
``config.yml`` fails at ``create``/``load`` with a message that says what to change,
not deep inside training.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rasa.shared.exceptions import InvalidConfigException

from components.errors import COMPONENT_NAME

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def validate_config(config: dict[str, Any], need_backbone: bool) -> None:
    """Checks every config value; ``need_backbone`` when training from scratch.

    Raises:
        InvalidConfigException: A value is missing or out of range.
    """
    backbone = config.get("model_name_or_path")
    if need_backbone and (not isinstance(backbone, str) or not backbone.strip()):
        raise InvalidConfigException(
            f"{COMPONENT_NAME} needs 'model_name_or_path': set it in config.yml to the "
            f"directory of a BERT-family encoder saved with save_pretrained (or a "
            f"Hugging Face hub id when the machine has network), got {backbone!r}."
        )
    for key, (check, expected) in _CHECKS.items():
        if not check(config.get(key)):
            raise InvalidConfigException(
                f"{COMPONENT_NAME}: '{key}' must be {expected}, got "
                f"{config.get(key)!r}. Change it in config.yml."
            )
    extra = config.get("extra_sentiment_corpus")
    if extra is not None and not Path(str(extra)).expanduser().exists():
        raise InvalidConfigException(
            f"{COMPONENT_NAME}: 'extra_sentiment_corpus' {extra!r} does not exist; "
            f"give a folder with pos.txt/neg.txt or a label<TAB>text file, or null."
        )


_Check = tuple[Callable[[Any], bool], str]


def _integer(low: int, nullable: bool = False, below: int | None = None) -> _Check:
    def ok(value: Any) -> bool:
        if nullable and value is None:
            return True
        is_int = isinstance(value, int) and not isinstance(value, bool)
        return is_int and value >= low and (below is None or value < below)

    limits = f">= {low}" + (f" and < {below}" if below is not None else "")
    return ok, ("null or " if nullable else "") + f"an integer {limits}"


def _number(low: float, below: float | None = None, low_open: bool = False) -> _Check:
    def ok(value: Any) -> bool:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        above = value > low if low_open else value >= low
        return above and (below is None or value < below)

    limits = f"{'>' if low_open else '>='} {low}"
    return ok, f"a number {limits}" + (f" and < {below}" if below is not None else "")


_BOOLEAN: _Check = (lambda value: isinstance(value, bool), "true or false")
_CHECKS: dict[str, _Check] = {
    "encoder_layers": _integer(1, nullable=True),
    "max_length": _integer(2),
    "epochs": _integer(1),
    "batch_size": _integer(1),
    "learning_rate": _number(0, low_open=True),
    "head_learning_rate": _number(0, low_open=True),
    "nlu_example_repeats": _integer(1),
    "warmup_ratio": _number(0, below=1),
    "weight_decay": _number(0),
    "sentiment_loss_weight": _number(0),
    "entity_loss_weight": _number(0),
    "skip_regex_entities": _BOOLEAN,
    "freeze_embeddings": _BOOLEAN,
    "early_stopping_patience": _integer(0),
    "dev_fraction": _number(0, below=1),
    # numpy seeds must fit in 32 bits.
    "random_seed": _integer(0, below=2**32),
    "device": (
        lambda value: isinstance(value, str) and bool(_DEVICE.match(value)),
        '"auto", "cpu", "cuda" or "cuda:N"',
    ),
    "num_threads": _integer(1, nullable=True),
    "cpu_bf16": _BOOLEAN,
    "cpu_int8": _BOOLEAN,
    "ranking_length": _integer(0),
    "use_review_corpus": _BOOLEAN,
    "review_corpus_limit": _integer(0, nullable=True),
    "extra_sentiment_corpus": (
        lambda value: value is None or (isinstance(value, str) and bool(value.strip())),
        "null or a path",
    ),
    "show_progress": _BOOLEAN,
    "lexical_weight": _number(0),
    "lexical_c": _number(0, low_open=True),
}
