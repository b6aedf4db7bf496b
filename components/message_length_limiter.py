"""Caps how much of a message NLU reads, so one huge message cannot exhaust memory.

DIET's attention grows with the square of the token count: a single 10,000-character
message took about 12 GB of memory on the baseline model, 5,000 characters 4 GB.
Customer messages that matter are short, so the pipeline's first component keeps the
first ``max_characters`` for NLU; the tracker still records the full text.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


# Rasa has no pre-processor type; featurizer nodes run in pipeline order both on
# the training data and at inference, which is what a pre-processor needs.
@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class MessageLengthLimiter(GraphComponent):
    """Truncates message texts to ``max_characters`` before the tokenizer."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {
            # Characters of a message that NLU reads; the rest is ignored by NLU.
            "max_characters": 1000,
        }

    def __init__(self, max_characters: int) -> None:
        self._max_characters = max_characters

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MessageLengthLimiter:
        """Creates the component from its config (validated here)."""
        limit = config.get("max_characters")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidConfigException(
                f"{cls.__name__}: 'max_characters' must be a positive integer, "
                f"got {limit!r}. Set it in config.yml, e.g. 'max_characters: 1000'."
            )
        return cls(limit)

    def process(self, messages: list[Message]) -> list[Message]:
        """Truncates the texts of incoming messages."""
        for message in messages:
            self._truncate(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Truncates training texts the same way, so training matches inference."""
        for message in training_data.training_examples:
            self._truncate(message)
        return training_data

    def _truncate(self, message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str) and len(text) > self._max_characters:
            logger.debug(
                "Message of %d characters truncated to %d for NLU.",
                len(text),
                self._max_characters,
            )
            message.set(TEXT, text[: self._max_characters])
