"""Create -> train -> persist -> load -> process, as Rasa's own component tests do."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import re
import shutil
import uuid
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from rasa.core.agent import Agent
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.model_training import train_nlu
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.constants import ENTITY_ATTRIBUTE_CONFIDENCE_TYPE
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import write_yaml

from components import bert_intent_sentiment
from components.bert_intent_sentiment import BertIntentSentimentClassifier
from components.errors import COMPONENT_NAME, BertIntentSentimentError
from nlu.constants import SENTIMENT, SENTIMENT_LABELS, SENTIMENT_RANKING
from nlu.model import NluModel

# Characters all in the tiny backbone's vocabulary (tests/components/conftest.py);
# entities in Rasa's markup, "[text](type)".
EXAMPLES: dict[str, list[tuple[str, str | None]]] = {
    "greet": [("你好", "positive"), ("您好", "positive"), ("早上好", "positive"),
              ("嗨", "neutral"), ("hello", "neutral"), ("hi", None)],
    "ask_price": [("[衣服](product)多少钱", "neutral"),
                  ("[鞋子](product)价格多少", "neutral"),
                  ("这个[裙子](product)多少钱", "neutral"),
                  ("[红色](color)[帽子](product)贵吗", "neutral"),
                  ("有优惠吗", "positive"), ("price", None)],
    "complain": [("[衣服](product)质量太差了", "negative"),
                 ("快递太慢了", "negative"), ("客服太差", "negative"),
                 ("[黑色](color)[鞋子](product)很失望", "negative"),
                 ("生气", "negative"), ("bad", "negative")],
}  # fmt: skip
INTENTS = sorted(EXAMPLES)
ENTITY_TYPES = ["color", "product"]
# Mobile numbers: annotated in the data, and a regex of their name beside them.
PHONE_EXAMPLES = [
    ("我要投诉[13812345678](phone_number)", "negative"),
    ("请[13900001111](phone_number)帮我看一下", "neutral"),
    ("[15012345678](phone_number)是我的", None),
]
PHONE_REGEX = {"name": "phone_number", "pattern": r"1[3-9]\d{9}"}
BAD_TEXTS = ["", "   ", "😀", "？？？", "价" * 10_000, "\n\t", "衣服😀鞋子", "  红色  "]
FAST = {
    "epochs": 3,
    "batch_size": 8,
    "use_review_corpus": False,
    "show_progress": False,
    "num_threads": 1,
}
# Enough training for the tiny backbone to learn the toy set; its embeddings are
# random, so there is nothing to gain from freezing them.
LEARN = {
    "epochs": 15,
    "learning_rate": 2e-3,
    "freeze_embeddings": False,
    "dev_fraction": 0.0,
    "early_stopping_patience": 0,
}

Factory = Callable[..., BertIntentSentimentClassifier]


_MARKUP = re.compile(r"\[([^\]]+)\]\((\w+)\)")


def _parse(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Text and Rasa entity dicts of "[衣服](product)多少钱"."""
    text, entities, last = "", [], 0
    for match in _MARKUP.finditer(markup):
        text += markup[last : match.start()]
        entities.append(
            {
                ENTITY_ATTRIBUTE_START: len(text),
                ENTITY_ATTRIBUTE_END: len(text) + len(match[1]),
                ENTITY_ATTRIBUTE_VALUE: match[1],
                ENTITY_ATTRIBUTE_TYPE: match[2],
            }
        )
        text += match[1]
        last = match.end()
    return text + markup[last:], entities


def _message(markup: str, intent: str, sentiment: str | None) -> Message:
    text, entities = _parse(markup)
    data: dict[str, Any] = {TEXT: text, INTENT: intent}
    if entities:
        data[ENTITIES] = entities
    if sentiment is not None:
        data["metadata"] = {"example": {"sentiment": sentiment}}
    return Message(data=data)


def _training_data(*story_intents: str, phones: bool = False) -> TrainingData:
    messages = [
        _message(text, intent, sentiment)
        for intent, examples in EXAMPLES.items()
        for text, sentiment in examples
    ]
    if phones:
        messages += [_message(text, "complain", s) for text, s in PHONE_EXAMPLES]
    # As the importer adds them from stories: intent only, no text.
    messages += [Message(data={INTENT: i}) for i in ("greet", *story_intents)]
    return TrainingData(messages, regex_features=[PHONE_REGEX] if phones else None)


def _texts() -> list[str]:
    return [_parse(text)[0] for examples in EXAMPLES.values() for text, _ in examples]


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


def _ours(message: Message) -> list[dict[str, Any]]:
    return [e for e in message.get(ENTITIES, []) if e.get(EXTRACTOR) == COMPONENT_NAME]


def _entity_spans(message: Message) -> list[tuple[str, str]]:
    return [
        (e[ENTITY_ATTRIBUTE_TYPE], e[ENTITY_ATTRIBUTE_VALUE]) for e in _ours(message)
    ]


def _assert_valid(
    message: Message, ranking_length: int = 10, types: Sequence[str] = ENTITY_TYPES
) -> None:
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

    text = message.get(TEXT) or ""
    for entity in _ours(message):
        start, end = entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]
        assert entity[ENTITY_ATTRIBUTE_TYPE] in types
        assert 0 <= start < end <= len(text)
        assert entity[ENTITY_ATTRIBUTE_VALUE] == text[start:end]
        confidence = entity[ENTITY_ATTRIBUTE_CONFIDENCE_TYPE]
        assert type(confidence) is float and 0.0 < confidence <= 1.0
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


def test_more_encoder_layers_than_the_backbone_has_is_a_config_error(
    create_component: Factory,
) -> None:
    component = create_component(encoder_layers=3)
    with pytest.raises(InvalidConfigException, match="encoder_layers"):
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


@pytest.mark.parametrize("cpu_int8", [True, False])
def test_loaded_model_predicts_what_the_trained_one_did(
    create_component: Factory, load_component: Factory, cpu_int8: bool
) -> None:
    # With cpu_int8 both are quantised, the trained one after saving its weights.
    component = create_component(cpu_int8=cpu_int8)
    component.train(_training_data())
    texts = _texts() + BAD_TEXTS
    before = [m.as_dict() for m in _process(component, texts)]
    after = [m.as_dict() for m in _process(load_component(cpu_int8=cpu_int8), texts)]
    assert after == before


def test_cpu_int8_quantises_the_loaded_model(trained: Factory) -> None:
    texts = _texts()
    int8 = _process(trained(device="cpu", cpu_int8=True), texts)
    fp32 = _process(trained(device="cpu", cpu_int8=False), texts)

    assert [m.as_dict() for m in int8] != [m.as_dict() for m in fp32]
    same = sum(
        q.get(INTENT)["name"] == f.get(INTENT)["name"]
        for q, f in zip(int8, fp32, strict=True)
    )
    assert same >= len(texts) - 2
    for message in int8:
        _assert_valid(message)


def test_process_sets_intent_sentiment_and_entities_as_output(
    trained: Factory,
) -> None:
    keys = {INTENT, INTENT_RANKING_KEY, SENTIMENT, SENTIMENT_RANKING, ENTITIES}
    for message in _process(trained(), _texts()):
        _assert_valid(message)
        assert keys <= set(message.as_dict(only_output_properties=True))


def test_entities_earlier_extractors_found_are_kept(trained: Factory) -> None:
    found_by_regex = {
        ENTITY_ATTRIBUTE_TYPE: "phone_number",
        ENTITY_ATTRIBUTE_START: 4,
        ENTITY_ATTRIBUTE_END: 15,
        ENTITY_ATTRIBUTE_VALUE: "13812345678",
        EXTRACTOR: "RegexEntityExtractor",
    }
    message = Message(
        data={TEXT: "衣服多少13812345678", ENTITIES: [dict(found_by_regex)]}
    )

    trained().process([message])

    entities = message.get(ENTITIES)
    assert entities[0] == found_by_regex
    assert entities[1:] == _ours(message)
    _assert_valid(message)


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
    assert no_text.get(ENTITIES) == _ours(no_text)
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


# --- entities -----------------------------------------------------------------------


def _stored_entity_types(storage: ModelStorage, resource: Resource) -> list[str]:
    with storage.read_from(resource) as directory:
        labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
    return sorted(tag for tag in labels["entity_tags"] if tag != "O")


@pytest.mark.parametrize(
    ("skip", "types"),
    [(True, ENTITY_TYPES), (False, ["color", "phone_number", "product"])],
)
def test_entity_types_with_a_regex_are_left_to_the_regex_extractor(
    create_component: Factory,
    model_storage: ModelStorage,
    resource: Resource,
    skip: bool,
    types: list[str],
) -> None:
    component = create_component(epochs=1, skip_regex_entities=skip)

    component.train(_training_data(phones=True))

    assert _stored_entity_types(model_storage, resource) == types
    phones = [_parse(text)[0] for text, _ in PHONE_EXAMPLES]
    for message in _process(component, phones):
        _assert_valid(message, types=types)


def test_data_without_entities_trains_no_entity_tagger(
    create_component: Factory, model_storage: ModelStorage, resource: Resource
) -> None:
    plain = [
        _message(_parse(markup)[0], intent, sentiment)
        for intent, examples in EXAMPLES.items()
        for markup, sentiment in examples
    ]
    component = create_component(epochs=1)

    component.train(TrainingData(plain))

    assert _stored_entity_types(model_storage, resource) == []
    for message in _process(component, _texts()):
        assert message.get(ENTITIES) == []


def test_encoder_layers_keeps_the_lower_layers(
    create_component: Factory, model_storage: ModelStorage, resource: Resource
) -> None:
    create_component(encoder_layers=1).train(_training_data())

    with model_storage.read_from(resource) as directory:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    assert config["num_hidden_layers"] == 1


# --- finetuning ---------------------------------------------------------------------


def _for_finetuning(
    backbone: Path, storage: ModelStorage, resource: Resource
) -> BertIntentSentimentClassifier:
    return BertIntentSentimentClassifier.load(
        _config(backbone, cpu_int8=True),
        storage,
        resource,
        ExecutionContext(GraphSchema({}), is_finetuning=True),
    )


def test_finetuning_with_other_intents_is_refused(
    trained: Factory,
    tiny_backbone: Path,
    model_storage: ModelStorage,
    resource: Resource,
) -> None:
    component = _for_finetuning(tiny_backbone, model_storage, resource)
    data = TrainingData(
        [_message("你好", "greet", None), _message("再见", "goodbye", None)]
    )
    with pytest.raises(BertIntentSentimentError, match="without --finetune"):
        component.train(data)


def test_finetuning_with_other_entity_types_is_refused(
    trained: Factory,
    tiny_backbone: Path,
    model_storage: ModelStorage,
    resource: Resource,
) -> None:
    component = _for_finetuning(tiny_backbone, model_storage, resource)
    # Without a regex of their name, phone numbers are a type to learn.
    data = TrainingData(_training_data(phones=True).nlu_examples)
    with pytest.raises(BertIntentSentimentError, match="phone_number"):
        component.train(data)


def test_a_model_loaded_for_finetuning_is_trained_further_in_float(
    trained: Factory,
    tiny_backbone: Path,
    model_storage: ModelStorage,
    resource: Resource,
) -> None:
    # cpu_int8 is on, but an int8 model could not be trained.
    component = _for_finetuning(tiny_backbone, model_storage, resource)
    before = [m.as_dict() for m in _process(component, _texts())]

    component.train(_training_data())

    after = _process(component, _texts())
    assert [m.as_dict() for m in after] != before
    for message in after:
        _assert_valid(message)


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


def test_process_is_the_nlu_stage_of_the_metrics(load_component: Factory) -> None:
    component = load_component()
    labels = {"stage": "nlu"}
    before = REGISTRY.get_sample_value("aurora_stage_seconds_count", labels) or 0.0
    component.process([Message(data={TEXT: "你好"})])
    assert REGISTRY.get_sample_value("aurora_stage_seconds_count", labels) == before + 1


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
        {"name": "RegexEntityExtractor", "use_regexes": True},
        {
            "name": f"{BertIntentSentimentClassifier.__module__}."
            f"{BertIntentSentimentClassifier.__name__}",
            # Enough to tag the products it was shown.
            **_config(tiny_backbone, **LEARN),
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
    data = _training_data(phones=True)
    nlu = TrainingData(data.nlu_examples, regex_features=data.regex_features)
    RasaYAMLWriter().dump(tmp_path / "nlu.yml", nlu)

    model = train_nlu(
        str(tmp_path / "config.yml"), str(tmp_path / "nlu.yml"), str(tmp_path)
    )
    assert model is not None
    agent = Agent.load(model)
    text = "衣服多少钱，13812345678"
    parsed = asyncio.run(agent.parse_message(text))
    assert parsed[INTENT]["name"] in INTENTS
    assert parsed[SENTIMENT]["name"] in SENTIMENT_LABELS
    assert [s["name"] for s in parsed[SENTIMENT_RANKING]] != []
    assert len(parsed[INTENT_RANKING_KEY]) == len(INTENTS)
    by_extractor = {
        (e[EXTRACTOR], e[ENTITY_ATTRIBUTE_TYPE], e[ENTITY_ATTRIBUTE_VALUE])
        for e in parsed[ENTITIES]
    }
    assert by_extractor == {
        ("RegexEntityExtractor", "phone_number", "13812345678"),
        (COMPONENT_NAME, "product", "衣服"),
    }
    for entity in parsed[ENTITIES]:
        start, end = entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]
        assert entity[ENTITY_ATTRIBUTE_VALUE] == text[start:end]


def test_a_second_training_restores_the_component_from_rasas_cache(
    tiny_backbone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make train` after `make test` (or in another checkout sharing the cache)
    # must not fine-tune again: the fingerprint depends only on the config, the
    # data, the backbone's content and the code, never on paths or time.
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    shutil.copytree(tiny_backbone, tmp_path / "backbone")
    name = f"{BertIntentSentimentClassifier.__module__}.{COMPONENT_NAME}"
    pipeline = [{"name": name, **_config(Path("backbone"), epochs=1)}]
    config = {"recipe": "default.v1", "language": "zh", "pipeline": pipeline}
    write_yaml({**config, "assistant_id": "test"}, tmp_path / "config.yml")
    RasaYAMLWriter().dump(
        tmp_path / "nlu.yml", TrainingData(_training_data().nlu_examples)
    )
    first = train_nlu("config.yml", "nlu.yml", str(tmp_path / "first"))
    assert first is not None

    def no_second_training(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("trained again instead of restoring from the cache")

    monkeypatch.setattr(NluModel, "fit", no_second_training)
    # The backbone copied afresh: same content, new modification times.
    shutil.rmtree(tmp_path / "backbone")
    shutil.copytree(tiny_backbone, tmp_path / "backbone")
    second = train_nlu("config.yml", "nlu.yml", str(tmp_path / "second"))

    assert second is not None
    parsed = asyncio.run(Agent.load(second).parse_message("多少钱"))
    assert parsed[INTENT]["name"] in INTENTS


def test_learns_the_toy_intents_sentiments_and_entities(
    create_component: Factory,
) -> None:
    # Checks the label plumbing end to end: metadata and entity annotations ->
    # heads -> names on messages. Phone numbers are learned too: the regex
    # extractor is told not to take them.
    component = create_component(**LEARN, skip_regex_entities=False)
    component.train(_training_data(phones=True))
    gold = [
        (*_parse(markup), intent, sentiment)
        for intent, examples in [*EXAMPLES.items(), ("complain", PHONE_EXAMPLES)]
        for markup, sentiment in examples
    ]
    messages = _process(component, [text for text, *_ in gold])

    pairs = list(zip(messages, gold, strict=True))
    intent_hits = sum(m.get(INTENT)["name"] == g[2] for m, g in pairs)
    sentiment_hits = sum(
        m.get(SENTIMENT)["name"] == g[3] for m, g in pairs if g[3] is not None
    )
    entity_hits = sum(
        _entity_spans(m)
        == [(e[ENTITY_ATTRIBUTE_TYPE], e[ENTITY_ATTRIBUTE_VALUE]) for e in g[1]]
        for m, g in pairs
    )
    # All but one of 21 intents, 18 sentiments and 21 entity lists (CPU gets
    # them all).
    assert intent_hits >= 20 and sentiment_hits >= 17, [
        (m.get(TEXT), m.get(INTENT)["name"], m.get(SENTIMENT)["name"]) for m in messages
    ]
    assert entity_hits >= 20, [(m.get(TEXT), _entity_spans(m)) for m in messages]
    for message in messages + _process(component, BAD_TEXTS):
        _assert_valid(message, types=[*ENTITY_TYPES, "phone_number"])
        assert all(e[EXTRACTOR] == COMPONENT_NAME for e in message.get(ENTITIES))
