"""One correlation id per WeChat message, carried by the context of its turn.

The channel binds the id when a message arrives (``bind_message``); the turn's
task, Rasa's processing inside it and the deliveries it starts inherit the
context, so every log line of that message carries the same id
(``json_logs`` adds it to each record). The id is a digest of the message's
de-dup key, so WeChat's retries, on any replica, log under the id of the first
try. The openid is logged only masked (``privacy.masking.mask_openid``: the same
short hash the masking of log text writes, so both can be searched together).
Standard library only.
"""

from __future__ import annotations

import hashlib
import os
from contextvars import ContextVar
from typing import Final

from privacy.masking import mask_openid

# Hex characters of an id: unique enough within days of logs, short to read.
ID_CHARS: Final = 16

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_openid: ContextVar[str | None] = ContextVar("masked_openid", default=None)


def bind_request() -> str:
    """Gives the current request a fresh id (before its message is known).

    Returns:
        The id; lines about a request rejected before parsing carry it.
    """
    correlation_id = os.urandom(ID_CHARS // 2).hex()
    _correlation_id.set(correlation_id)
    _openid.set(None)
    return correlation_id


def bind_message(message_key: str, openid: str) -> str:
    """Binds the id of the message ``message_key`` from ``openid`` to the context.

    Args:
        message_key: The message's de-dup key (``wechat.dedup.message_key``).
        openid: The sender; only its masked form is kept.

    Returns:
        The correlation id.
    """
    digest = hashlib.sha256(message_key.encode("utf-8")).hexdigest()
    correlation_id = digest[:ID_CHARS]
    _correlation_id.set(correlation_id)
    _openid.set(mask_openid(openid) if openid else None)
    return correlation_id


def unbind() -> None:
    """Clears the context: a background task outliving the message that started it."""
    _correlation_id.set(None)
    _openid.set(None)


def correlation_id() -> str | None:
    """The id bound to the current context, if any."""
    return _correlation_id.get()


def masked_openid() -> str | None:
    """The masked openid bound to the current context, if any."""
    return _openid.get()
