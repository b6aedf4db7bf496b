from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.model_training import train_nlu
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.message_length_limiter import MessageLengthLimiter


def _create(tmp_path: Path, **config: Any) -> MessageLengthLimiter:
    return MessageLengthLimiter.create(
        {**MessageLengthLimiter.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("limiter"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def test_long_texts_are_cut_and_short_ones_kept(tmp_path: Path) -> None:
    limiter = _create(tmp_path, max_characters=5)
    long, short, empty = (
        Message({"text": "一二三四五六七"}),
        Message({"text": "你好"}),
        Message(),
    )
    limiter.process([long, short, empty])
    assert long.get("text") == "一二三四五"
    assert short.get("text") == "你好"
    assert empty.get("text") is None


def test_training_data_is_cut_the_same_way(tmp_path: Path) -> None:
    data = TrainingData([Message({"text": "abcdefgh", "intent": "greet"})])
    _create(tmp_path, max_characters=3).process_training_data(data)
    assert data.training_examples[0].get("text") == "abc"


def test_default_limit_is_a_thousand_characters() -> None:
    assert MessageLengthLimiter.get_default_config() == {"max_characters": 1000}


@pytest.mark.parametrize("bad", [0, -1, 2.5, "100", None, True])
def test_invalid_limit_says_what_to_set(tmp_path: Path, bad: object) -> None:
    with pytest.raises(InvalidConfigException, match="'max_characters' must be"):
        _create(tmp_path, max_characters=bad)


@pytest.fixture
def nlu_model(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "config.yml").write_text(
        "recipe: default.v1\nlanguage: en\npipeline:\n"
        "  - name: components.message_length_limiter.MessageLengthLimiter\n"
        "    max_characters: 20\n"
        "  - name: WhitespaceTokenizer\n"
        "  - name: CountVectorsFeaturizer\n"
        "  - name: LogisticRegressionClassifier\n",
        encoding="utf-8",
    )
    examples = {
        "greet": ["hello", "hi there", "good morning", "hey"],
        "goodbye": ["bye", "see you", "good night", "farewell"],
    }
    nlu = "\n".join(
        f"- intent: {intent}\n  examples: |\n" + "".join(f"    - {t}\n" for t in texts)
        for intent, texts in examples.items()
    )
    (tmp_path / "nlu.yml").write_text(f'version: "3.1"\nnlu:\n{nlu}', encoding="utf-8")
    model = train_nlu(
        str(tmp_path / "config.yml"),
        str(tmp_path / "nlu.yml"),
        str(tmp_path / "models"),
    )
    assert model is not None
    yield model


async def test_inside_rasa_nlu_sees_only_the_first_characters(nlu_model: str) -> None:
    agent = Agent.load(nlu_model)
    result = await agent.parse_message("hello " + "x" * 50_000)
    assert result["text"] == "hello " + "x" * 14
    assert result["intent"]["name"] == "greet"
