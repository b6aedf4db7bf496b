"""JSON log lines: one object per record, with the message's ids, never an openid."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from privacy import masking
from privacy.masking import mask_openid
from telemetry import correlation, json_logs
from telemetry.json_logs import FORMAT_ENV, LogFormatError

OPENID = "o_json_user"


@pytest.fixture
def lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose one handler writes JSON into a buffer."""
    masking.install()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(json_logs.json_formatter())
    logger = logging.getLogger(f"tests.json_logs.{id(buffer)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, buffer
    logger.removeHandler(handler)


def records(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_record_is_one_json_object_with_the_common_keys(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = lines
    logger.info("你好 %d", 3)
    (record,) = records(buffer)
    assert list(record)[:4] == ["timestamp", "level", "logger", "message"]
    assert record["message"] == "你好 3"
    assert record["level"] == "info" and record["logger"] == logger.name
    assert record["timestamp"].endswith("Z")
    assert "correlation_id" not in record


def test_a_message_s_lines_carry_its_id_and_the_masked_openid(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = lines

    def during_a_message() -> str:
        bound = correlation.bind_message("msg:99", OPENID)
        logger.warning("answering %s", OPENID)
        return bound

    bound = contextvars.copy_context().run(during_a_message)
    (record,) = records(buffer)
    assert record["correlation_id"] == bound
    assert record["openid"] == mask_openid(OPENID)
    assert OPENID not in buffer.getvalue()


def test_an_exception_stays_on_the_line(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = lines
    try:
        raise ValueError(f"bad input from {OPENID}")
    except ValueError:
        logger.exception("failed")
    (record,) = records(buffer)
    assert record["level"] == "error"
    assert "ValueError" in record["exception"]
    assert OPENID not in buffer.getvalue()


def test_rasa_s_rendered_structlog_event_becomes_fields(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = lines
    # What Rasa's structlog JSONRenderer hands to logging.
    rendered = json.dumps(
        {"event": "processor.actions.log", "level": "debug", "action_name": "x"}
    )
    logger.info(rendered)
    logger.info("{not json}")
    merged, untouched = records(buffer)
    assert merged["message"] == "processor.actions.log"
    assert merged["action_name"] == "x" and merged["level"] == "info"
    assert untouched["message"] == "{not json}"


@pytest.fixture
def root_handlers() -> Iterator[list[logging.Handler]]:
    """The root logger's handlers, given back with their formatters afterwards."""
    root = logging.getLogger()
    saved = [(h, h.formatter) for h in root.handlers]
    yield root.handlers
    for handler in list(root.handlers):
        if handler not in [h for h, _ in saved]:
            root.removeHandler(handler)
    for handler, formatter in saved:
        handler.setFormatter(formatter)
    logging.captureWarnings(False)


def test_configure_switches_the_root_handlers_only_for_json(
    root_handlers: list[logging.Handler],
) -> None:
    assert not json_logs.configure({})
    assert not json_logs.configure({FORMAT_ENV: "text"})
    assert json_logs.configure({FORMAT_ENV: " JSON "})
    # Python's warnings become records too, so they are JSON lines as well.
    assert warnings.showwarning.__module__ == "logging"
    assert root_handlers
    for handler in root_handlers:
        assert isinstance(handler.formatter, logging.Formatter)
        assert type(handler.formatter) is type(json_logs.json_formatter())


def test_an_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(LogFormatError, match="text, json"):
        json_logs.configure({FORMAT_ENV: "yaml"})
