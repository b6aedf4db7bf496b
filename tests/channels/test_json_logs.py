"""JSON logs of WeChat messages: one correlation id per message, across its turn."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from privacy.masking import mask_openid
from telemetry import json_logs
from tests.channels.conftest import ServeFactory, StubAgent

OPENID = "o_json_turn_user"
# Rasa's own modules log during a turn; this stands in for them.
rasa_logger = logging.getLogger("rasa.core.processor")


@pytest.fixture
def json_lines(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every record of the process as a JSON line, as AURORA_LOG_FORMAT=json logs."""
    caplog.set_level(logging.INFO)
    # Other tests (benchmarks' quiet mode, Rasa's own set-up) may have raised
    # these loggers' levels; caplog restores them afterwards.
    for name in ("rasa", "rasa.core.processor", "channels", "wechat"):
        caplog.set_level(logging.INFO, logger=name)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(json_logs.json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def records(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def silent_and_chatty(message: UserMessage) -> list[dict[str, Any]]:
    """Logs like Rasa during the turn, mentioning the sender, and says nothing."""
    rasa_logger.info("Received user message from %s", message.sender_id)
    return []


async def test_every_line_of_a_message_carries_its_id_and_no_openid(
    serve: ServeFactory, json_lines: io.StringIO
) -> None:
    served = await serve(agent=StubAgent(silent_and_chatty))
    message = served.sim.text(OPENID, "有人吗")
    await served.sim.post(message)
    await served.sim.post(message)  # WeChat's retry: the same message
    await served.settle()
    other = served.sim.text(OPENID, "第二条")
    await served.sim.post(other)
    await served.settle()

    lines = records(json_lines)
    assert lines, "nothing logged"
    assert OPENID not in json_lines.getvalue()
    ours = [r for r in lines if r.get("openid") == mask_openid(OPENID)]
    # From the channel (retry, apology) and from "Rasa" within the turn's task.
    loggers = {r["logger"] for r in ours}
    assert {"rasa.core.processor", "channels.turns"} <= loggers
    ids = {r["correlation_id"] for r in ours}
    assert len(ids) == 2  # one per message, the retry shares its message's id
    first_id = next(r["correlation_id"] for r in ours if "retried" in r["message"])
    first_lines = [r for r in ours if r["correlation_id"] == first_id]
    assert sum("Received user message" in r["message"] for r in first_lines) == 1
    assert sum("apologising" in r["message"] for r in first_lines) == 1
