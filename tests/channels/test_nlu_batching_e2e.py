"""Batched parses of the trained model read every held-out message as Rasa does.

Marked ``e2e`` (a trained model in ``models/``, as ``make test`` has after
``rasa train``): each message of ``tests/test_nlu.yml`` is parsed by Rasa
(``MessageProcessor.parse_message``) and by ``channels.nlu_batching`` in batches
of mixed lengths; intents, sentiments, entities and the fallback decision are
the same, the scores equal up to float rounding.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent, load_agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.nlu.training_data.loading import load_data

from channels.nlu_batching import agent_parser

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("E2E_MODEL", ROOT / "models"))
BATCH = 8

pytestmark = pytest.mark.e2e


def _model() -> str:
    if MODEL.is_file():
        return str(MODEL)
    archives = sorted(MODEL.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not archives:
        pytest.fail(f"no trained model in {MODEL}: run `make train` first")
    return str(archives[-1])


@pytest.fixture
async def agent() -> Agent:
    return await load_agent(model_path=_model())


def _reading(parse_data: dict[str, Any]) -> tuple[Any, ...]:
    entities = tuple(
        (e["entity"], e["value"], e["start"], e["end"]) for e in parse_data["entities"]
    )
    return (
        parse_data["intent"]["name"],
        parse_data.get("sentiment", {}).get("name"),
        entities,
        [r["name"] for r in parse_data.get("intent_ranking", [])][:3],
    )


async def test_batches_read_the_held_out_messages_as_rasa_does(agent: Agent) -> None:
    texts = [
        str(e.get("text"))
        for e in load_data(str(ROOT / "tests" / "test_nlu.yml")).intent_examples
    ]
    parse = agent_parser(agent)
    assert parse is not None and agent.processor is not None
    batched: list[dict[str, Any]] = []
    for start in range(0, len(texts), BATCH):
        batched += parse([UserMessage(t) for t in texts[start : start + BATCH]])
    for text, ours in zip(texts, batched, strict=True):
        rasa_way = await agent.processor.parse_message(UserMessage(text))
        assert _reading(ours) == _reading(rasa_way), text
        assert ours["intent"]["confidence"] == pytest.approx(
            rasa_way["intent"]["confidence"], abs=1e-4
        )
        assert ours["text"] == rasa_way["text"]
