"""The WeChat official-account input channel for Rasa (``channels.wechat.WeChatInput``).

Routes, under ``/webhooks/wechat/``:

- ``GET  /``: health;
- ``GET  /webhook``: WeChat's server-URL handshake (answers ``echostr`` when valid);
- ``POST /webhook``: messages and events, plain, compatible or AES safe mode.

A POST goes through, in order: the signature and timestamp window; with
``require_safe_mode``, the refusal of a plain push; the size limit; in plain mode the
replay cache (one body per signed timestamp and nonce, ``wechat.replay``); for a
message (not an event) the per-user rate limit (``wechat.rate_limit``: over it, the
first message gets ``utter_wechat_rate_limited`` at once and later ones ``success``,
with no Rasa turn); then the turn, whose message the agent's NLU reads in a worker
thread, batched with others that wait (``channels.nlu_batching``).

This module only adapts HTTP: the checks live in ``signature``, ``crypto``,
``xml_safety``, ``replay`` and ``rate_limit``, the mapping in ``mapping``,
exactly-once turns and the deadline in ``turns``. The store (Redis) is behind
``wechat.storage.FailoverStore``, so a Redis outage costs one short timeout, not the
answer. Rejected requests get 4xx; nothing WeChat sends gets a 5xx.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.tracker_store import TrackerStore
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.nlu_batching import BatchedNlu, agent_parser
from channels.output import CHANNEL_NAME, WeChatPushOutput
from channels.probes import add_probes
from channels.turns import MessageSender, TurnRunner
from channels.warmup import warm_up
from telemetry import json_logs
from telemetry.correlation import bind_message, bind_request
from telemetry.json_logs import LogFormatError
from telemetry.metrics import RATE_LIMITED, REJECTED, REPLY, VERIFY, timed
from wechat.api_client import WeChatApiClient
from wechat.config import WeChatSettings
from wechat.crypto import MessageCrypto
from wechat.dedup import message_key
from wechat.errors import (
    BodyTooLarge,
    ConfigError,
    DecryptionFailed,
    MalformedMessage,
    PlainModeRefused,
    RequestRejected,
)
from wechat.mapping import MappingContext, to_inbound
from wechat.rate_limit import RateLimiter, Verdict
from wechat.rendering import SUCCESS, TextOut, passive_reply
from wechat.replay import ReplayCache
from wechat.signature import verify_request
from wechat.storage import KeyValueStore, open_store
from wechat.texts import ChannelTexts
from wechat.xml_safety import check_size, parse_xml

logger = logging.getLogger(__name__)

# Fields without which a message cannot be answered or de-duplicated.
REQUIRED_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


class WeChatInput(InputChannel):
    """Receives WeChat messages and answers them within WeChat's 5-second limit.

    Args:
        settings: credentials and tunables (``WeChatSettings.from_credentials``).
        store: de-dup keys, rate limits, replay cache, token and menus; from
            ``settings.store`` by default (Redis with failover to memory).
        api: the customer-service API; a ``WeChatApiClient`` by default.
        texts: what the channel says by itself; read from ``settings.domain_path``
            by default.

    Raises:
        ConfigError: the domain file cannot be read or lacks a channel text.
    """

    def __init__(
        self,
        settings: WeChatSettings,
        store: KeyValueStore | None = None,
        api: MessageSender | None = None,
        texts: ChannelTexts | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or open_store(
            settings.store, timeout_s=settings.store_timeout_s
        )
        self.texts = texts or ChannelTexts.from_domain_file(settings.domain_path)
        self.api = api or WeChatApiClient(
            settings.app_id,
            settings.app_secret,
            self.store,
            settings.api_base_url,
            settings.api_timeout_s,
        )
        self._crypto = (
            MessageCrypto(settings.token, settings.encoding_aes_key, settings.app_id)
            if settings.encoding_aes_key
            else None
        )
        self._context = MappingContext(menu=settings.menu)
        self._rate_limiter = RateLimiter(
            self.store,
            settings.rate_limit_messages,
            settings.rate_limit_window_s,
            settings.app_id,
        )
        self._replays = ReplayCache(
            self.store, settings.timestamp_window_s, settings.app_id
        )
        self.runner = TurnRunner(settings, self.store, self.api, texts=self.texts)
        # Set once the model ran once (channels.warmup); readiness waits for it.
        self.warmed = False
        self._warming: asyncio.Future[None] | None = None
        self._nlu = BatchedNlu()

    @classmethod
    def name(cls) -> str:
        """The channel's name: its routes live under ``/webhooks/wechat/``."""
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        """Builds the channel from its section of ``credentials.yml``."""
        if not credentials:
            cls.raise_missing_credentials_exception()
        try:
            # Rasa builds its channels once its own logging is set up.
            json_logs.configure()
            return cls(WeChatSettings.from_credentials(credentials))
        except (ConfigError, LogFormatError) as error:
            # Rasa prints its own exceptions as a message instead of a traceback.
            raise InvalidConfigException(str(error)) from error

    def get_output_channel(self) -> WeChatPushOutput:
        """Output for messages outside a turn: straight to the customer-service API."""
        return WeChatPushOutput(self.runner.deliver)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """The Sanic routes of the channel."""
        webhook = Blueprint(f"wechat_webhook_{id(self)}")

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            args = request.args
            try:
                verify_request(
                    self.settings.token,
                    args.get("signature"),
                    args.get("timestamp"),
                    args.get("nonce"),
                    self.settings.timestamp_window_s,
                )
            except RequestRejected as e:
                logger.warning("WeChat handshake rejected: %s", e)
                return response.text("forbidden", status=e.status)
            return response.text(args.get("echostr") or "")

        add_probes(webhook, self.store, warmed=lambda: self.warmed)

        @webhook.listener("after_server_start")
        async def warm(app: Any, *_: Any) -> None:
            # Rasa loads the agent before the server starts; tests may have none.
            agent = getattr(app.ctx, "agent", None)

            async def run() -> None:
                if agent is not None and agent.is_ready():
                    await warm_up(agent)
                self.warmed = True
                # Turns of replicas that died after WeChat got its answer; from
                # here on, so a taken-over turn finds the model loaded and warm.
                await self.runner.sweep_forever(
                    on_new_message,
                    self._context,
                    tracker_store=lambda: getattr(agent, "tracker_store", None),
                )

            # In the background: the liveness probe answers meanwhile.
            self._warming = asyncio.ensure_future(run())

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            started_at = asyncio.get_running_loop().time()
            bind_request()
            try:
                return await self._receive(request, on_new_message, started_at)
            except RequestRejected as e:
                REJECTED.labels(type(e).__name__).inc()
                logger.warning("WeChat request rejected (%d): %s", e.status, e)
                return response.text(type(e).__name__, status=e.status)
            except Exception:  # the webhook's boundary: never a 5xx to WeChat
                # WeChat would retry a 5xx; the message is dropped instead of
                # failing three times.
                logger.exception("WeChat request failed; answered success.")
                return response.text(SUCCESS)

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            if self._warming is not None:
                self._warming.cancel()  # the warm-up, then the sweep
            await self.runner.drain()
            await self._nlu.close()
            closer = getattr(self.api, "close", None)
            if closer is not None:
                await closer()
            await self.store.close()

        return webhook

    async def _receive(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        started_at: float,
    ) -> HTTPResponse:
        args = request.args
        timestamp = args.get("timestamp") or ""
        nonce = args.get("nonce") or ""
        verify_started = time.perf_counter()
        verify_request(
            self.settings.token,
            args.get("signature"),
            timestamp,
            nonce,
            self.settings.timestamp_window_s,
        )
        encrypted = (args.get("encrypt_type") or "raw").lower() == "aes"
        if not encrypted and self.settings.require_safe_mode:
            raise PlainModeRefused("plain push refused: require_safe_mode is on")
        body = await self._read_body(request)
        fields = parse_xml(body, self.settings.max_body_bytes)
        if encrypted:
            fields = self._decrypt(fields, args, timestamp, nonce)
        else:
            # Only the query is signed: one body per (timestamp, nonce).
            await self._replays.check(timestamp, nonce, body)
        missing = [name for name in REQUIRED_FIELDS if not fields.get(name)]
        if missing:
            raise MalformedMessage(f"missing fields {missing}")
        if not fields["CreateTime"].isdigit():
            raise MalformedMessage("CreateTime is not a number")
        VERIFY.observe(time.perf_counter() - verify_started)
        bind_message(message_key(fields), fields["FromUserName"])
        answer = await self._over_limit(fields)
        if answer is None:
            inbound = to_inbound(fields, self._context)
            answer = await self.runner.answer(
                fields,
                inbound,
                # NLU off the event loop, batched (channels.nlu_batching).
                self._nlu.before(on_new_message, lambda: agent_parser(_agent(request))),
                started_at,
                tracker_store=lambda: _tracker_store(request),
            )
        if answer == SUCCESS:
            return response.text(SUCCESS)
        with timed(REPLY):
            if encrypted and self._crypto is not None:
                answer = self._crypto.encrypt(answer, nonce, str(int(time.time())))
            return response.text(answer, content_type="application/xml")

    def _decrypt(
        self, fields: dict[str, str], args: Any, timestamp: str, nonce: str
    ) -> dict[str, str]:
        """The fields inside ``<Encrypt>`` (safe and compatible mode)."""
        if self._crypto is None:
            raise DecryptionFailed("encrypted request but no encoding_aes_key set")
        encrypt = fields.get("Encrypt")
        if not encrypt:
            raise MalformedMessage("encrypted request without <Encrypt>")
        plaintext = self._crypto.decrypt(
            encrypt, args.get("msg_signature"), timestamp, nonce
        )
        try:
            return parse_xml(plaintext, self.settings.max_body_bytes)
        except MalformedMessage as e:
            # CBC has no integrity of its own: a damaged ciphertext decrypts to
            # garbage, which is a decryption failure, not a client mistake.
            raise DecryptionFailed(f"decrypted payload is not a message: {e}") from e

    async def _over_limit(self, fields: dict[str, str]) -> str | None:
        """The answer to a message over the rate limit; None when it may go on.

        Events are not counted: a subscribe or an unfollow always reaches Rasa.
        """
        if fields["MsgType"].lower() == "event":
            return None
        openid = fields["FromUserName"]
        verdict = await self._rate_limiter.check(openid, message_key(fields))
        if verdict is Verdict.ALLOWED:
            return None
        RATE_LIMITED.inc()
        logger.info("%s is over the rate limit; no turn for this message.", openid)
        if verdict is Verdict.LIMITED:
            return SUCCESS
        account = fields["ToUserName"] or self.settings.account
        return passive_reply(TextOut(self.texts.rate_limited), openid, account)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"Content-Length {declared} is over {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        if request.stream is not None:
            async for chunk in request.stream:
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(f"body is over {limit} bytes")
                chunks.append(chunk)
        body = b"".join(chunks) or (request.body or b"")
        check_size(body, limit)
        return body


def _agent(request: Request) -> Agent | None:
    """The agent ``rasa run`` keeps on the app (None in tests without one)."""
    agent = getattr(request.app.ctx, "agent", None)
    return agent if isinstance(agent, Agent) else None


def _tracker_store(request: Request) -> TrackerStore | None:
    """Rasa's tracker store, through the agent ``rasa run`` keeps on the app."""
    agent = getattr(request.app.ctx, "agent", None)
    return getattr(agent, "tracker_store", None)
