"""``AURORA_LOG_FORMAT=json``: one JSON object per log line, with the message's ids.

Each line holds ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``,
``message``, the ``correlation_id`` and masked ``openid`` of the WeChat message
being handled (``telemetry.correlation``), and ``exception`` / ``stack`` when the
record has them. Text (the default) leaves the process's logging as it is.

Built on structlog's ``ProcessorFormatter``, the library Rasa 3.6 itself logs
through: ``configure`` only swaps the formatter of the root logger's handlers,
after Rasa (coloredlogs) or the process installed them, and leaves Rasa's own
structlog setup alone. Rasa renders its structlog events to a JSON string
before they reach ``logging``; such a line is parsed back and its fields merged,
so it stays one flat object instead of JSON inside a string. Records arrive
already masked (``privacy.masking`` wraps every logger's handlers), so the
message, exception and Rasa's fields hold no openid or mobile number.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

import structlog

from telemetry.correlation import correlation_id, masked_openid

FORMAT_ENV: Final = "AURORA_LOG_FORMAT"
TEXT: Final = "text"
JSON: Final = "json"
FORMATS: Final = (TEXT, JSON)


EventDict = MutableMapping[str, Any]


class LogFormatError(ValueError):
    """``AURORA_LOG_FORMAT`` names no format; the message lists the allowed ones."""


def log_format(environ: Mapping[str, str] = os.environ) -> str:
    """``text`` or ``json``, from ``AURORA_LOG_FORMAT`` (``text`` when unset).

    Raises:
        LogFormatError: Any other value.
    """
    value = (environ.get(FORMAT_ENV) or TEXT).strip().lower()
    if value not in FORMATS:
        raise LogFormatError(f"{FORMAT_ENV}={value!r}: use one of {', '.join(FORMATS)}")
    return value


def configure(environ: Mapping[str, str] = os.environ) -> bool:
    """Switches this process's log lines to JSON when ``AURORA_LOG_FORMAT=json``.

    Call it after the process set up its logging (Rasa, coloredlogs or
    ``basicConfig``): the root logger's handlers keep their streams and levels
    and get the JSON formatter; without any, one writing to stderr is added.
    Python's warnings are logged from then on (``py.warnings``), so they are
    JSON lines too. Idempotent.

    Args:
        environ: The environment.

    Returns:
        Whether the lines are JSON now.

    Raises:
        LogFormatError: ``AURORA_LOG_FORMAT`` is neither ``text`` nor ``json``.
    """
    if log_format(environ) != JSON:
        return False
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    formatter = json_formatter()
    for handler in root.handlers:
        handler.setFormatter(formatter)
    logging.captureWarnings(True)
    return True


def json_formatter() -> logging.Formatter:
    """The formatter of ``configure``: one JSON object per record."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            _merge_rendered_event,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            _add_correlation,
            _add_exception,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _in_reading_order,
            structlog.processors.JSONRenderer(
                serializer=json.dumps, ensure_ascii=False, default=str
            ),
        ],
    )


def _merge_rendered_event(_: Any, __: str, event: EventDict) -> EventDict:
    """Rasa's structlog line (already a JSON string) as fields of this line."""
    text = event.get("event")
    if not (isinstance(text, str) and text.startswith("{") and text.endswith("}")):
        return event
    try:
        fields = json.loads(text)
    except ValueError:
        return event
    if not isinstance(fields, dict):
        return event
    fields.pop("level", None)  # the record's level is the one that counts
    event.update({k: v for k, v in fields.items() if not k.startswith("_")})
    return event


def _add_correlation(_: Any, __: str, event: EventDict) -> EventDict:
    bound = correlation_id()
    if bound is not None:
        event["correlation_id"] = bound
        openid = masked_openid()
        if openid is not None:
            event["openid"] = openid
    return event


def _add_exception(_: Any, __: str, event: EventDict) -> EventDict:
    """The traceback as one ``exception`` string (masked when masking runs)."""
    record: logging.LogRecord | None = event.get("_record")
    exc_info = event.pop("exc_info", None)
    text = record.exc_text if record is not None else None
    if not text and exc_info:
        text = "".join(traceback.format_exception(*exc_info)).rstrip("\n")
    if text:
        event["exception"] = text
    stack = event.pop("stack_info", None)
    if stack:
        event["stack"] = stack
    return event


_FIRST_KEYS: Final = (
    "timestamp",
    "level",
    "logger",
    "message",
    "correlation_id",
    "openid",
)


def _in_reading_order(_: Any, __: str, event: EventDict) -> EventDict:
    """``event`` renamed ``message``, the common keys first, then the rest."""
    event["message"] = event.pop("event", "")
    ordered = {key: event.pop(key) for key in _FIRST_KEYS if key in event}
    ordered.update(event)
    return ordered
