"""Messages are parsed off the event loop, those that wait in one batch, in order.

A stub NLU stands in for the agent's; ``tests/channels/test_nlu_batching_e2e.py``
compares the batches with Rasa's own parse on the trained model.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from channels.nlu_batching import BatchedNlu, ParseData, agent_parser


class StubNlu:
    """Parses a text into its intent; records the batches and their threads.

    Args:
        gate: when given, each batch waits for it (the test holds the worker).
        fail: raise instead of parsing.
    """

    def __init__(self, gate: threading.Event | None = None, fail: bool = False):
        self.gate = gate
        self.fail = fail
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()

    def __call__(self, messages: Sequence[UserMessage]) -> list[ParseData]:
        self.threads.add(threading.current_thread().name)
        self.batches.append([m.text or "" for m in messages])
        if self.gate is not None:
            self.gate.wait(5)
        if self.fail:
            raise RuntimeError("the encoder broke")
        return [{"text": m.text, "intent": {"name": f"i_{m.text}"}} for m in messages]


class Handler:
    """Rasa's ``on_new_message``: records what it was handed."""

    def __init__(self) -> None:
        self.seen: list[tuple[str | None, Any]] = []

    async def __call__(self, message: UserMessage) -> None:
        self.seen.append((message.text, message.parse_data))


async def test_a_lone_message_is_parsed_at_once_off_the_event_loop() -> None:
    nlu, handler, batched = StubNlu(), Handler(), BatchedNlu()
    await batched.before(handler, lambda: nlu)(UserMessage("你好", sender_id="u1"))
    await batched.close()
    assert handler.seen == [("你好", {"text": "你好", "intent": {"name": "i_你好"}})]
    assert nlu.batches == [["你好"]]
    assert nlu.threads != {threading.current_thread().name}


async def test_messages_that_wait_are_parsed_together_and_in_order() -> None:
    gate = threading.Event()
    nlu, handler, batched = StubNlu(gate), Handler(), BatchedNlu(max_batch=3)
    handle = batched.before(handler, lambda: nlu)
    texts = [f"m{i}" for i in range(7)]
    turns = [asyncio.ensure_future(handle(UserMessage(texts[0])))]
    await asyncio.sleep(0.1)  # the first batch holds the worker
    turns += [asyncio.ensure_future(handle(UserMessage(t))) for t in texts[1:]]
    await asyncio.sleep(0.1)
    gate.set()
    await asyncio.gather(*turns)
    await batched.close()
    assert nlu.batches == [["m0"], ["m1", "m2", "m3"], ["m4", "m5", "m6"]]
    assert [text for text, _ in handler.seen] == texts
    assert [data["intent"]["name"] for _, data in handler.seen] == [
        f"i_{t}" for t in texts
    ]


async def test_a_failed_batch_leaves_the_parsing_to_rasa() -> None:
    nlu, handler, batched = StubNlu(fail=True), Handler(), BatchedNlu()
    handle = batched.before(handler, lambda: nlu)
    await asyncio.gather(handle(UserMessage("a")), handle(UserMessage("b")))
    await batched.close()
    assert sorted(handler.seen) == [("a", None), ("b", None)]


async def test_a_wrong_number_of_parses_leaves_the_parsing_to_rasa() -> None:
    handler, batched = Handler(), BatchedNlu()

    def one_too_few(messages: Sequence[UserMessage]) -> list[ParseData]:
        return []

    await batched.before(handler, lambda: one_too_few)(UserMessage("a"))
    await batched.close()
    assert handler.seen == [("a", None)]


@pytest.mark.parametrize(
    "message",
    [
        UserMessage("你好", parse_data={"intent": {"name": "given"}}),
        UserMessage(""),
        UserMessage(None),
    ],
)
async def test_parsed_or_empty_messages_go_to_rasa_as_they_are(
    message: UserMessage,
) -> None:
    nlu, handler, batched = StubNlu(), Handler(), BatchedNlu()
    before = message.parse_data
    await batched.before(handler, lambda: nlu)(message)
    await batched.close()
    assert nlu.batches == []
    assert handler.seen == [(message.text, before)]


async def test_without_an_agent_nlu_rasa_parses() -> None:
    handler, batched = Handler(), BatchedNlu()
    await batched.before(handler, lambda: None)(UserMessage("你好"))
    await batched.close()
    assert handler.seen == [("你好", None)]


def test_an_agent_without_a_model_has_no_parser() -> None:
    assert agent_parser(None) is None
    assert agent_parser(Agent()) is None
