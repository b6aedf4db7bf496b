"""WeChat request signatures, checked in constant time inside a time window.

Same algorithm as ``wechatpy.utils.check_signature`` and wechatpy's
``_get_signature``: sha1 over the sorted, concatenated parts. Unlike wechatpy the
comparison is ``hmac.compare_digest`` and the timestamp must be fresh.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from wechat.errors import InvalidSignature, StaleTimestamp


def sign(*parts: str) -> str:
    """Returns WeChat's signature of ``parts``: sha1 hex of their sorted concatenation.

    Args:
        *parts: token, timestamp, nonce and, for ``msg_signature``, the ciphertext.
    """
    data = b"".join(sorted(part.encode("utf-8") for part in parts))
    return hashlib.sha1(data).hexdigest()


def check_timestamp(timestamp: str, window_s: float, now: float | None = None) -> None:
    """Rejects a timestamp that is not an integer within ``window_s`` of now.

    Raises:
        StaleTimestamp: malformed, too old or too far in the future.
    """
    if (
        not (isinstance(timestamp, str) and timestamp.isascii() and timestamp.isdigit())
        or len(timestamp) > 12
    ):
        # WeChat sends Unix seconds (10 digits); a longer one cannot be in the window.
        raise StaleTimestamp("timestamp is not a Unix time in seconds")
    sent = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - sent) > window_s:
        raise StaleTimestamp(f"timestamp {sent} is outside the {window_s:g} s window")


def check_signature(signature: str | None, token: str, *parts: str) -> None:
    """Compares ``signature`` with ``sign(token, *parts)`` in constant time.

    Raises:
        InvalidSignature: missing or different.
    """
    if not signature:
        raise InvalidSignature("signature is missing")
    expected = sign(token, *parts)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8")):
        raise InvalidSignature("signature does not match")


def verify_request(
    token: str,
    signature: str | None,
    timestamp: str | None,
    nonce: str | None,
    window_s: float,
    now: float | None = None,
) -> None:
    """Verifies the query of a webhook request (GET handshake or POST).

    Args:
        token: the token configured in WeChat's console.
        signature: ``signature`` query parameter.
        timestamp: ``timestamp`` query parameter.
        nonce: ``nonce`` query parameter.
        window_s: accepted distance between ``timestamp`` and now.
        now: the current time (tests).

    Raises:
        InvalidSignature: a part is missing or the signature does not match.
        StaleTimestamp: the timestamp is outside the window.
    """
    if not (signature and timestamp and nonce):
        raise InvalidSignature("signature, timestamp and nonce are required")
    check_signature(signature, token, timestamp, nonce)
    check_timestamp(timestamp, window_s, now)
