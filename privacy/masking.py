"""One logging filter for personal data: openids and mobile numbers never reach a log.

PIPL treats a WeChat openid and a phone number as personal data, and a log line is
copied to places (files, syslog, a log service) that deletion never reaches. So
every log record of the process is masked before any handler sees it:

- openids (``o`` + 27 characters of ``[A-Za-z0-9_-]``, and the ``o_…`` ids that
  tests and the simulator use) become ``o…`` plus a short stable hash, so one
  customer's lines can still be followed without naming them;
- mainland mobile numbers (``1[3-9]`` + 9 digits, with ``+86``/``0086``, spaces,
  dashes or full-width digits as customers type them) become ``138****5678``.

The message (rendered with its arguments), string ``extra`` fields, the exception
text and the stack text are masked.

**Why a wrapper around ``logging.Logger.callHandlers``** (and not a record factory
or a filter on each handler): every record that any logger emits reaches its
handlers through ``Logger.callHandlers``: ``Logger.handle`` calls it, and so does
absl's logger, which overrides ``handle``. At that point the record is complete:
``extra`` fields are attached (sanic's access log puts the request line, with
WeChat's ``?openid=`` query, in ``extra``) and the exception is known, and no
handler or formatter has written anything yet. A ``setLogRecordFactory`` wrapper
runs before ``extra`` fields are attached, so it cannot see them. A filter on each
handler only covers the handlers that exist when it is installed, and Rasa,
sanic and coloredlogs add or replace handlers after our modules are imported.
Standard library only.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from collections.abc import Callable
from typing import Final

# A real openid: "o" + 27 URL-safe base64 characters; the o_… ids of tests and
# the simulator. Neighbouring id characters must not continue the match, so a
# longer token is left alone rather than half masked.
_OPENID: Final = re.compile(
    r"(?<![A-Za-z0-9_-])(?:o[A-Za-z0-9_-]{27}|o_[A-Za-z0-9_-]+)(?![A-Za-z0-9_-])"
)
# A mainland mobile number as typed: optional 86/+86/0086, spaces or dashes after
# the 3rd and 7th digit, ASCII or full-width digits. Not inside a longer number.
_MOBILE: Final = re.compile(
    r"(?<![\d+＋])(?:(?:\+|＋|00)?86[\s-]*)?"
    r"([1１][3-9３-９]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)"
)
# Hex digits of the hash that stands in for an openid: enough to tell customers
# apart in one investigation, too few to be an identifier.
OPENID_HASH_CHARS: Final = 6
# Attributes every LogRecord has; anything else is an ``extra`` field.
_STANDARD_ATTRIBUTES: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__
) | {"message", "asctime"}
# Set on a record once masked, so a record handled twice is masked once.
_MASKED_FLAG: Final = "_privacy_masked"


def mask_openid(openid: str) -> str:
    """``o`` + ellipsis + a short stable hash of the openid.

    Args:
        openid: A WeChat openid.

    Returns:
        The same text for the same openid, in every process.
    """
    digest = hashlib.sha256(openid.encode("utf-8")).hexdigest()
    return f"o…{digest[:OPENID_HASH_CHARS]}"


def mask_mobile(match: re.Match[str]) -> str:
    """``138****5678`` for a matched mobile number (digits normalised to ASCII)."""
    head, _, tail = (str(int(group)).zfill(len(group)) for group in match.groups())
    return f"{head}****{tail}"


def mask_text(text: str) -> str:
    """``text`` with every openid and mobile number masked.

    Args:
        text: Any text bound for a log.

    Returns:
        The masked text (the same object when there was nothing to mask).
    """
    text = _OPENID.sub(lambda m: mask_openid(m.group(0)), text)
    return _MOBILE.sub(mask_mobile, text)


def _rendered_message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception as e:  # logging's own boundary: never fail, never leak
        return f"{record.msg!s} (arguments not shown: {type(e).__name__})"


def mask_record(record: logging.LogRecord) -> None:
    """Masks a log record in place: message, ``extra`` fields, exception, stack.

    The message is rendered with its arguments (which may be any objects whose
    text holds personal data) and the arguments dropped. The exception is
    rendered here into ``exc_text``, which ``logging.Formatter`` prints as the
    traceback, and ``exc_info`` dropped: the exception object holds the raw text,
    and a handler that formatted it itself would print it unmasked.

    Args:
        record: The record, before any handler sees it.
    """
    if record.__dict__.get(_MASKED_FLAG):
        return
    record.msg = mask_text(_rendered_message(record))
    record.args = ()
    if record.exc_info and not record.exc_text:
        rendered = "".join(traceback.format_exception(*record.exc_info))
        record.exc_text = rendered.rstrip("\n")
    record.exc_info = None
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    for key, value in list(record.__dict__.items()):
        if key not in _STANDARD_ATTRIBUTES and isinstance(value, str):
            record.__dict__[key] = mask_text(value)
    record.__dict__[_MASKED_FLAG] = True


_original_call_handlers: Callable[[logging.Logger, logging.LogRecord], None] | None
_original_call_handlers = None


def install() -> None:
    """Masks every log record of this process from now on; idempotent.

    Wraps ``logging.Logger.callHandlers`` (see the module docstring for why that
    is the one place every record passes). Call it once at process start; the
    Rasa process, the action server and the click server do.
    """
    global _original_call_handlers
    if _original_call_handlers is not None:
        return
    original = logging.Logger.callHandlers

    def call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        mask_record(record)
        original(self, record)

    _original_call_handlers = original
    logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign]


def installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return _original_call_handlers is not None
