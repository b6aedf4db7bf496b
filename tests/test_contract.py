"""The domain contract and the training data that other work relies on.

Loaded with Rasa's own readers, so what is checked is what ``rasa train`` sees.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from rasa.shared.core.constants import DEFAULT_INTENTS
from rasa.shared.core.domain import Domain
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import read_yaml_file

ROOT = Path(__file__).resolve().parents[1]

INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge",
    "ask_product_info", "ask_price", "ask_promotion", "request_recommendation",
    "purchase", "ask_shipping", "ask_return", "complain", "request_human",
    "ask_store", "join_campaign", "unsubscribe", "delete_my_data", "leave_contact",
    "out_of_scope",
}  # fmt: skip
ENTITIES = {
    "product_category", "product", "budget", "phone_number", "order_id", "city",
    "position", "campaign",
}  # fmt: skip
SENTIMENTS = {"positive", "neutral", "negative"}
MIN_TRAIN_PER_INTENT = 40
MIN_TEST_PER_INTENT = 10
# Sent by a channel as "/intent" for an event, never typed: no NLU examples, so the
# classifier never predicts them for a customer's text.
SYSTEM_INTENTS = {"unfollow"}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def train_data() -> TrainingData:
    importer = TrainingDataImporter.load_from_config(
        config_path=str(ROOT / "config.yml"),
        domain_path=str(ROOT / "domain.yml"),
        training_data_paths=[str(ROOT / "data")],
    )
    return importer.get_nlu_data(language="zh")


@pytest.fixture(scope="module")
def test_data() -> TrainingData:
    return load_data(str(ROOT / "tests" / "test_nlu.yml"), language="zh")


def _sentiment(message: Message) -> object:
    metadata = message.get("metadata") or {}
    return (metadata.get("example") or {}).get("sentiment")


def _normalise(text: str) -> str:
    # Same message for a customer: ignore case, width, spaces, punctuation, emoji.
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if ch.isalnum())


def test_domain_intents_are_the_contract(domain: Domain) -> None:
    declared = read_yaml_file(str(ROOT / "domain.yml"))["intents"]
    assert sorted(declared) == sorted(INTENTS | SYSTEM_INTENTS)
    # Rasa adds its defaults (restart, nlu_fallback, ...) and nothing else.
    assert set(domain.intents) == INTENTS | SYSTEM_INTENTS | set(DEFAULT_INTENTS)


def test_domain_entities_are_the_contract(domain: Domain) -> None:
    assert set(domain.entities) == ENTITIES


def test_sentiment_slot_is_categorical_with_the_three_labels(domain: Domain) -> None:
    slot = next(s for s in domain.slots if s.name == "sentiment")
    assert slot.type_name == "categorical"
    assert set(slot.values) >= SENTIMENTS
    assert slot.influence_conversation
    # Filled every turn by one action run by action_extract_slots.
    assert slot.mappings == [{"type": "custom", "action": "action_set_sentiment"}]


# Read by the action from this turn's message only: "第一款" names a position in
# the list just sent; the chosen campaign is kept in the campaign_id slot.
TURN_ONLY_ENTITIES = {"position", "campaign"}


def test_every_entity_has_a_slot(domain: Domain) -> None:
    assert {slot.name for slot in domain.slots} >= ENTITIES - TURN_ONLY_ENTITIES


@pytest.mark.parametrize("fixture", ["train_data", "test_data"])
def test_every_example_has_a_sentiment_label(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    data: TrainingData = request.getfixturevalue(fixture)
    missing = [
        m.get("text") for m in data.intent_examples if _sentiment(m) not in SENTIMENTS
    ]
    assert not missing, f"examples without a valid sentiment: {missing[:5]}"


def test_training_data_covers_every_intent(train_data: TrainingData) -> None:
    counts = Counter(m.get("intent") for m in train_data.intent_examples)
    # Exactly the typed intents: an example of a system intent would let NLU take a
    # customer's words for, say, an unfollow, which opts out without a question.
    assert set(counts) == INTENTS
    thin = {i: n for i, n in counts.items() if n < MIN_TRAIN_PER_INTENT}
    assert not thin, f"intents with fewer than {MIN_TRAIN_PER_INTENT} examples: {thin}"


def test_held_out_data_covers_every_intent(test_data: TrainingData) -> None:
    counts = Counter(m.get("intent") for m in test_data.intent_examples)
    assert set(counts) == INTENTS
    assert min(counts.values()) >= MIN_TEST_PER_INTENT


@pytest.mark.parametrize("fixture", ["train_data", "test_data"])
def test_every_sentiment_label_is_used_widely(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    data: TrainingData = request.getfixturevalue(fixture)
    counts = Counter(_sentiment(m) for m in data.intent_examples)
    total = sum(counts.values())
    assert all(counts[label] / total >= 0.15 for label in SENTIMENTS), counts


def test_held_out_data_does_not_repeat_training_lines(
    train_data: TrainingData, test_data: TrainingData
) -> None:
    seen = {_normalise(m.get("text")) for m in train_data.intent_examples}
    repeated = [
        m.get("text")
        for m in test_data.intent_examples
        if _normalise(m.get("text")) in seen
    ]
    assert not repeated, f"held-out examples also in training data: {repeated}"


def test_no_example_is_labelled_with_two_intents(train_data: TrainingData) -> None:
    labels: dict[str, set[str]] = {}
    for message in train_data.intent_examples:
        labels.setdefault(_normalise(message.get("text")), set()).add(
            message.get("intent")
        )
    clashes = {text: ls for text, ls in labels.items() if len(ls) > 1}
    assert not clashes, clashes


@pytest.mark.parametrize("fixture", ["train_data", "test_data"])
def test_entity_annotations_use_contract_names(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    data: TrainingData = request.getfixturevalue(fixture)
    used = {e["entity"] for m in data.entity_examples for e in m.get("entities", [])}
    assert used <= ENTITIES


@pytest.mark.parametrize("data", ["train_data", "test_data"])
def test_no_two_entities_of_one_type_touch(
    data: str, request: pytest.FixtureRequest
) -> None:
    # The entity head tags tokens IO-style (nlu/entity_tags.py): two
    # entities of one type with only spaces between them would read as one.
    touching = []
    for message in request.getfixturevalue(data).training_examples:
        text = message.get("text")
        # Story turns name entities without a text (no positions): nothing to tag.
        spans = [e for e in message.get("entities") or [] if "start" in e]
        entities = sorted(spans, key=lambda e: e["start"])
        for left, right in pairwise(entities):
            gap = text[left["end"] : right["start"]]
            if left["entity"] == right["entity"] and not gap.strip():
                touching.append(text)
    assert touching == []


def test_phone_and_order_annotations_match_their_formats(
    train_data: TrainingData,
) -> None:
    patterns = {
        "phone_number": re.compile(r"1[3-9]\d{9}"),
        "order_id": re.compile(r"au\d{14}", re.IGNORECASE),
    }
    for message in train_data.entity_examples:
        for entity in message.get("entities", []):
            pattern = patterns.get(entity["entity"])
            if pattern is not None:
                value = re.sub(r"[\s-]", "", str(entity["value"]))
                assert pattern.fullmatch(value), (entity, message.get("text"))


def test_training_data_has_synonyms_lookups_and_regexes(
    train_data: TrainingData,
) -> None:
    assert train_data.entity_synonyms
    assert {t["name"] for t in train_data.lookup_tables} >= {
        "product",
        "product_category",
    }
    assert {r["name"] for r in train_data.regex_features} >= {
        "phone_number",
        "order_id",
    }


def test_responses_are_chinese(domain: Domain) -> None:
    for name, variations in domain.responses.items():
        for variation in variations:
            text = variation.get("text", "")
            if re.fullmatch(r"(\{\w+\}\s*)+", text):
                continue  # all data: e.g. the catalog's recovery offer
            assert re.search(r"[\u4e00-\u9fff]", text), f"{name} is not in Chinese"
