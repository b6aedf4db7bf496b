"""Create -> train -> persist -> load -> process, as Rasa's own component tests do."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.model_training import train_nlu
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import write_yaml

from components import bert_intent_sentiment
from components.bert_intent_sentiment import BertIntentSentimentClassifier
from components.constants import SENTIMENT, SENTIMENT_LABELS, SENTIMENT_RANKING
from components.errors import COMPONENT_NAME, BertIntentSentimentError

# Characters all in the tiny backbone's vocabulary (tests/components/conftest.py).
EXAMPLES: dict[str, list[tuple[str, str | None]]] = {
    "greet": [("你好", "positive"), ("您好", "positive"), ("早上好", "positive"),
              ("嗨", "neutral"), ("hello", "neutral"), ("hi", None)],
    "ask_price": [("多少钱", "neutral"), ("价格多少", "neutral"),
                  ("这个多少钱", "neutral"), ("贵吗", "neutral"),
                  ("有优惠吗", "positive"), ("price", None)],
    "complain": [("质量太差了", "negative"), ("快递太慢了", "negative"),
                 ("客服太差", "negative"), ("很失望", "negative"), ("生气", "negative"),
                 ("bad", "negative")],
}  # fmt: skip
INTENTS = sorted(EXAMPLES)
BAD_TEXTS = ["", "   ", "😀", "？？？", "价" * 10_000, "\n\t"]
FAST = {
    "epochs": 3,
    "batch_size": 8,
    "use_review_corpus": False,
    "show_progress": False,
    "num_threads": 1,
}

Factory = Callable[..., BertIntentSentimentClassifier]


def _message(text: str, intent: str, sentiment: str | None) -> Message:
    data: dict[str, Any] = {TEXT: text, INTENT: intent}
    if sentiment is not None:
        data["metadata"] = {"example": {"sentiment": sentiment}}
    return Message(data=data)


def _training_data(*story_intents: str) -> TrainingData:
    messages = [
        _message(text, intent, sentiment)
        for intent, examples in EXAMPLES.items()
        for text, sentiment in examples
    ]
    # As the importer adds them from stories: intent only, no text.
    messages += [Message(data={INTENT: i}) for i in ("greet", *story_intents)]
    return TrainingData(messages)


def _texts() -> list[str]:
    return [text for examples in EXAMPLES.values() for text, _ in examples]


@pytest.fixture
def model_storage(tmp_path: Path) -> ModelStorage:
    return LocalModelStorage.create(tmp_path)


@pytest.fixture
def execution_context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), uuid.uuid4().hex)


@pytest.fixture
def resource() -> Resource:
    return Resource(f"train_{BertIntentSentimentClassifier.__name__}0")


def _config(backbone: Path, **overrides: Any) -> dict[str, Any]:
    config = BertIntentSentimentClassifier.get_default_config()
    config.update(model_name_or_path=str(backbone), **FAST)
    config.update(overrides)
    return config


@pytest.fixture
def create_component(
    tiny_backbone: Path,
    model_storage: ModelStorage,
    resource: Resource,
    execution_context: ExecutionContext,
) -> Factory:
    def create(**overrides: Any) -> BertIntentSentimentClassifier:
        return BertIntentSentimentClassifier.create(
            _config(tiny_backbone, **overrides),
            model_storage,
            resource,
            execution_context,
        )

    return create


@pytest.fixture
def load_component(
    tiny_backbone: Path,
    model_storage: ModelStorage,
    resource: Resource,
    execution_context: ExecutionContext,
) -> Factory:
    def load(**overrides: Any) -> BertIntentSentimentClassifier:
        return BertIntentSentimentClassifier.load(
            _config(tiny_backbone, **overrides),
            model_storage,
            resource,
            execution_context,
        )

    return load


@pytest.fixture
def trained(create_component: Factory, load_component: Factory) -> Factory:
    """Trains once into the test's storage; returns a loader with config overrides."""
    create_component().train(_training_data())
    return load_component


def _process(
    component: BertIntentSentimentClassifier, texts: list[str]
) -> list[Message]:
    return component.process([Message(data={TEXT: text}) for text in texts])


def _assert_valid(message: Message, ranking_length: int = 10) -> None:
    intent, ranking = message.get(INTENT), message.get(INTENT_RANKING_KEY)
    assert intent["name"] in INTENTS and type(intent["confidence"]) is float
    assert ranking[0] == intent and 0 < len(ranking) <= ranking_length
    confidences = [label["confidence"] for label in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert all(type(c) is float and 0.0 <= c <= 1.0 for c in confidences)

    sentiment, sentiments = message.get(SENTIMENT), message.get(SENTIMENT_RANKING)
    assert sentiment == sentiments[0] and sentiment["name"] in SENTIMENT_LABELS
    assert {label["name"] for label in sentiments} == set(SENTIMENT_LABELS)
    assert sum(label["confidence"] for label in sentiments) == pytest.approx(1.0)
    assert all(type(label["confidence"]) is float for label in sentiments)
    json.dumps(message.as_dict())  # what the tracker store will serialise


# --- config -------------------------------------------------------------------------


def test_default_config_needs_a_backbone(
    model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
) -> None:
    config = BertIntentSentimentClassifier.get_default_config()
    with pytest.raises(InvalidConfigException, match="model_name_or_path"):
        BertIntentSentimentClassifier.create(
            config, model_storage, resource, execution_context
        )


def test_messages_name_the_component() -> None:
    assert BertIntentSentimentClassifier.__name__ == COMPONENT_NAME


def test_create_does_no_io(create_component: Factory) -> None:
    # A backbone that does not exist is only read when training starts.
    component = create_component(model_name_or_path="not/downloaded-anywhere")
    assert component.process([Message(data={TEXT: "你好"})])[0].get(INTENT) == {
        "name": None,
        "confidence": 0.0,
    }


def test_unloadable_backbone_is_a_config_error(create_component: Factory) -> None:
    component = create_component(model_name_or_path="/no/such/backbone")
    with pytest.raises(InvalidConfigException, match="model_name_or_path"):
        component.train(_training_data())


# --- training data ------------------------------------------------------------------


def test_intents_only_stories_use_are_reported(create_component: Factory) -> None:
    with pytest.warns(UserWarning, match="ask_store"):
        create_component(epochs=1).train(_training_data("ask_store"))


def test_rasa_fallback_intent_is_not_reported(create_component: Factory) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        create_component(epochs=1).train(
            _training_data(DEFAULT_NLU_FALLBACK_INTENT_NAME)
        )

    assert not [w for w in caught if "can never predict" in str(w.message)]


def test_fewer_than_two_intents_skips_training(
    create_component: Factory, load_component: Factory
) -> None:
    data = TrainingData([_message("你好", "greet", "positive")])
    create_component().train(data)
    assert load_component().process([Message(data={TEXT: "你好"})])[0].get(INTENT) == {
        "name": None,
        "confidence": 0.0,
    }


# --- train, persist, load, process --------------------------------------------------


def test_loaded_model_predicts_what_the_trained_one_did(
    create_component: Factory, load_component: Factory
) -> None:
    component = create_component()
    component.train(_training_data())
    before = [m.as_dict() for m in _process(component, _texts())]
    after = [m.as_dict() for m in _process(load_component(), _texts())]
    assert after == before


def test_process_sets_intent_and_sentiment_as_output(trained: Factory) -> None:
    for message in _process(trained(), _texts()):
        _assert_valid(message)
        output = message.as_dict(only_output_properties=True)
        assert {INTENT, INTENT_RANKING_KEY, SENTIMENT, SENTIMENT_RANKING} <= set(output)


@pytest.mark.parametrize(("ranking_length", "expected"), [(2, 2), (0, 3), (10, 3)])
def test_intent_ranking_is_cut_to_ranking_length(
    trained: Factory, ranking_length: int, expected: int
) -> None:
    (message,) = _process(trained(ranking_length=ranking_length), ["多少钱"])
    assert len(message.get(INTENT_RANKING_KEY)) == expected
    _assert_valid(message)


def test_odd_texts_still_get_a_valid_prediction(trained: Factory) -> None:
    component = trained()
    for message in _process(component, BAD_TEXTS):
        _assert_valid(message)
    (no_text,) = component.process([Message(data={})])
    _assert_valid(no_text)
    assert component.process([]) == []


def test_fallback_classifier_still_judges_our_confidence(
    trained: Factory, model_storage: ModelStorage, execution_context: ExecutionContext
) -> None:
    component = trained()
    low, high = (
        FallbackClassifier.create(
            {
                **FallbackClassifier.get_default_config(),
                "threshold": threshold,
                "ambiguity_threshold": 0.0,
            },
            model_storage,
            Resource("fallback"),
            execution_context,
        )
        for threshold in (0.0, 1.0)
    )
    (kept,) = low.process(_process(component, ["多少钱"]))
    assert kept.get(INTENT)["name"] in INTENTS

    (message,) = high.process(_process(component, ["多少钱"]))
    assert message.get(INTENT)["name"] == DEFAULT_NLU_FALLBACK_INTENT_NAME
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0]["name"] == DEFAULT_NLU_FALLBACK_INTENT_NAME
    assert {label["name"] for label in ranking[1:]} == set(INTENTS)
    assert message.get(SENTIMENT)["name"] in SENTIMENT_LABELS


def test_same_seed_same_model(create_component: Factory) -> None:
    first, second = create_component(), create_component()
    first.train(_training_data())
    second.train(_training_data())
    assert [m.as_dict() for m in _process(first, _texts())] == [
        m.as_dict() for m in _process(second, _texts())
    ]


def test_finetuning_with_other_intents_is_refused(
    trained: Factory,
    tiny_backbone: Path,
    model_storage: ModelStorage,
    resource: Resource,
) -> None:
    component = BertIntentSentimentClassifier.load(
        _config(tiny_backbone),
        model_storage,
        resource,
        ExecutionContext(GraphSchema({}), is_finetuning=True),
    )
    data = TrainingData(
        [_message("你好", "greet", None), _message("再见", "goodbye", None)]
    )
    with pytest.raises(BertIntentSentimentError, match="without --finetune"):
        component.train(data)


# --- untrained and broken models ----------------------------------------------------


def test_load_without_a_trained_model_keeps_messages_safe(
    load_component: Factory,
) -> None:
    component = load_component()
    classified = Message(
        data={TEXT: "你好", INTENT: {"name": "greet", "confidence": 1.0}}
    )
    unclassified = Message(data={TEXT: "你好"})
    component.process([classified, unclassified])
    assert classified.get(INTENT) == {"name": "greet", "confidence": 1.0}
    assert unclassified.get(INTENT) == {"name": None, "confidence": 0.0}
    assert unclassified.get(INTENT_RANKING_KEY) == []
    assert unclassified.get(SENTIMENT) is None


def test_broken_saved_model_is_a_clear_error(
    model_storage: ModelStorage, resource: Resource, load_component: Factory
) -> None:
    with model_storage.write_to(resource) as directory:
        (directory / "labels.json").write_text("{}")
    with pytest.raises(BertIntentSentimentError, match="rasa train --force"):
        load_component()


# --- fingerprint --------------------------------------------------------------------


def test_fingerprint_follows_the_extra_corpus(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "reviews.tsv"
    corpus.write_text("positive\t很好\n", encoding="utf-8")
    config = _config(tiny_backbone, extra_sentiment_corpus=str(corpus))
    before = BertIntentSentimentClassifier.fingerprint_addon(config)
    corpus.write_text("negative\t很好\n", encoding="utf-8")
    assert BertIntentSentimentClassifier.fingerprint_addon(config) != before


def test_fingerprint_follows_the_backbone(tiny_backbone: Path, tmp_path: Path) -> None:
    other = _config(tiny_backbone, model_name_or_path=str(tmp_path))
    fingerprint = BertIntentSentimentClassifier.fingerprint_addon
    assert fingerprint(_config(tiny_backbone)) == fingerprint(_config(tiny_backbone))
    assert fingerprint(_config(tiny_backbone)) != fingerprint(other)


def _imported_components_modules(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):  # lazy and TYPE_CHECKING imports count too
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "components":
            names |= {f"components.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {name for name in names if name.startswith("components.")}


def test_fingerprint_covers_the_code_of_every_module_the_model_uses() -> None:
    # A module that a fingerprinted one imports shapes training too; forgetting it
    # in _MODEL_MODULES would let its changes reuse a stale cached model.
    listed = set(bert_intent_sentiment._MODEL_MODULES)
    for module in listed:
        assert _imported_components_modules(module) <= listed, module
    addon = BertIntentSentimentClassifier.fingerprint_addon({})
    code = json.loads(addon or "{}")["code"]
    assert set(code) == listed and None not in code.values()


# --- through Rasa's own training and serving ----------------------------------------


def test_rasa_trains_packages_and_serves_the_component(
    tiny_backbone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    pipeline = [
        {
            "name": f"{BertIntentSentimentClassifier.__module__}."
            f"{BertIntentSentimentClassifier.__name__}",
            **_config(tiny_backbone, epochs=1),
        },
        {"name": "FallbackClassifier", "threshold": 0.0, "ambiguity_threshold": 0.0},
    ]
    config = {
        "recipe": "default.v1",
        "language": "zh",
        "assistant_id": "test",
        "pipeline": pipeline,
    }
    write_yaml(config, tmp_path / "config.yml")
    nlu = TrainingData(_training_data().nlu_examples)
    RasaYAMLWriter().dump(tmp_path / "nlu.yml", nlu)

    model = train_nlu(
        str(tmp_path / "config.yml"), str(tmp_path / "nlu.yml"), str(tmp_path)
    )
    assert model is not None
    agent = Agent.load(model)
    parsed = asyncio.run(agent.parse_message("多少钱"))
    assert parsed[INTENT]["name"] in INTENTS
    assert parsed[SENTIMENT]["name"] in SENTIMENT_LABELS
    assert [s["name"] for s in parsed[SENTIMENT_RANKING]] != []
    assert len(parsed[INTENT_RANKING_KEY]) == len(INTENTS)


def test_learns_the_toy_intents_and_sentiments(create_component: Factory) -> None:
    # Checks the label plumbing end to end: metadata -> heads -> names on messages.
    component = create_component(
        epochs=40, learning_rate=1e-3, dev_fraction=0.0, early_stopping_patience=0
    )
    component.train(_training_data())
    gold = [pair for examples in EXAMPLES.values() for pair in examples]
    intents = [i for i, examples in EXAMPLES.items() for _ in examples]
    messages = _process(component, [text for text, _ in gold])
    predicted = [(m.get(INTENT)["name"], m.get(SENTIMENT)["name"]) for m in messages]
    intent_hits = sum(p == i for (p, _), i in zip(predicted, intents, strict=True))
    sentiment_hits = sum(
        p == s for (_, p), (_, s) in zip(predicted, gold, strict=True) if s is not None
    )
    # All but one of 18 intents and 16 sentiments (CPU gets them all).
    assert intent_hits >= 17 and sentiment_hits >= 15
