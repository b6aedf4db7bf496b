"""Typed errors of the WeChat channel.

Inside the channel every failure is one of these; the Sanic boundary
(``channels.wechat``) turns them into a safe answer for WeChat (403, 400, 413 or
``success``) and never into a 5xx.
"""

from __future__ import annotations


class WeChatChannelError(Exception):
    """Base class of everything the WeChat channel raises on purpose."""


class ConfigError(WeChatChannelError):
    """The WeChat section of ``credentials.yml`` is wrong; the message says how."""


class RequestRejected(WeChatChannelError):
    """A webhook request that must not be processed further.

    Attributes:
        status: HTTP status the boundary answers with.
    """

    status = 400


class InvalidSignature(RequestRejected):
    """``signature`` or ``msg_signature`` is missing or does not match."""

    status = 403


class StaleTimestamp(RequestRejected):
    """The request's timestamp lies outside the configured window (replay guard)."""

    status = 403


class DecryptionFailed(RequestRejected):
    """The AES payload does not decrypt, or it was encrypted for another AppID."""

    status = 403


class ReplayedRequest(RequestRejected):
    """A plain-mode request reuses a signed (timestamp, nonce) with another body.

    In plain mode WeChat's signature covers token, timestamp and nonce only, so a
    captured query could carry a forged body; WeChat's own retries repeat the body.
    """

    status = 403


class PlainModeRefused(RequestRejected):
    """An unencrypted push while ``require_safe_mode`` is on."""

    status = 403


class BodyTooLarge(RequestRejected):
    """The body is over the configured size limit; it was not parsed."""

    status = 413


class MalformedMessage(RequestRejected):
    """The body is not a well-formed, entity-free WeChat ``<xml>`` message."""

    status = 400


class StoreError(WeChatChannelError):
    """The shared store (Redis) failed or did not answer in time."""


class StoreTimeout(StoreError):
    """The shared store did not answer within ``store_timeout_s``.

    Also what a busy process sees when its event loop was held up longer than
    the timeout while the answer was already there: worth one more try.
    """


class WeChatApiError(WeChatChannelError):
    """WeChat's API answered with a non-zero ``errcode`` (or not at all).

    Attributes:
        errcode: WeChat's error code; ``-1`` when the call failed below HTTP.
        errmsg: WeChat's message, or the transport error.
    """

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
