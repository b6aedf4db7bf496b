"""One WeChat message, one Rasa turn, one answer within WeChat's deadline.

``TurnRunner.answer`` is called by every try of a message. The first try starts
the turn as its own task; at the deadline (or earlier, when the turn is done) the
outcome is decided once (see ``wechat.dedup``): the first reply answers
passively and the rest goes through the customer-service API, or, when the turn is
slower than the deadline, WeChat gets ``success`` and every reply goes through the
API as soon as the turn ends. A turn is never cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol

from rasa.core.channels.channel import UserMessage

from channels.output import CHANNEL_NAME, WeChatCollector
from wechat.api_client import NOT_AUTHORISED, OUTSIDE_WINDOW
from wechat.config import WeChatSettings
from wechat.dedup import API, EMPTY, Deduplicator, message_key, passive, passive_xml
from wechat.errors import WeChatApiError
from wechat.mapping import Inbound
from wechat.menus import MenuMemory
from wechat.rendering import (
    SUCCESS,
    Outbound,
    TextOut,
    customer_service_bodies,
    merge_texts,
    passive_reply,
)
from wechat.storage import KeyValueStore

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
# After a 48001 the account is treated as passive-only for this long.
PASSIVE_ONLY_TTL_S = 3600


class MessageSender(Protocol):
    """What the runner needs of the customer-service API."""

    async def send_message(self, body: dict[str, Any]) -> None:
        """Sends one ``message/custom/send`` body; raises ``WeChatApiError``."""


class TurnRunner:
    """Runs turns exactly once and answers every try of a message.

    Args:
        settings: the channel's settings.
        store: memory or Redis, shared with the de-dup keys and menus.
        api: the customer-service API.
    """

    def __init__(
        self,
        settings: WeChatSettings,
        store: KeyValueStore,
        api: MessageSender,
    ) -> None:
        self._settings = settings
        self._store = store
        self._api = api
        self._dedup = Deduplicator(store, settings.dedup_ttl_s, settings.app_id)
        self._menus = MenuMemory(store, settings.menu_ttl_s, settings.app_id)
        self._passive_only_key = f"{settings.app_id}:passive_only"
        # Strong references: the loop keeps only weak ones to running tasks.
        self._tasks: set[asyncio.Task[Any]] = set()

    async def answer(
        self,
        fields: Mapping[str, str],
        inbound: Inbound,
        on_new_message: OnNewMessage,
        started_at: float,
    ) -> str:
        """The body to answer this try with: passive reply XML or ``success``.

        Args:
            fields: the parsed (decrypted) message.
            inbound: its mapping.
            on_new_message: Rasa's handler, which runs the turn.
            started_at: ``loop.time()`` when the request arrived.
        """
        openid = fields.get("FromUserName", "")
        account = fields.get("ToUserName") or self._settings.account
        if inbound.direct_reply:
            return passive_reply(TextOut(inbound.direct_reply), openid, account)
        if not inbound.text:
            return SUCCESS
        loop = asyncio.get_running_loop()
        key = message_key(dict(fields))
        deadline_at = started_at + self._settings.reply_deadline_s
        if await self._dedup.claim(openid, key):
            self._spawn(
                self._drive(key, openid, account, inbound, on_new_message, deadline_at)
            )
        else:
            logger.info("WeChat retried %s; waiting for the first try's turn.", key)
        decision = await self._dedup.wait(openid, key, deadline_at - loop.time())
        if decision is None:
            # The turn runs on another replica and has not decided yet.
            decision = await self._dedup.decide(openid, key, API)
        return passive_xml(decision) or SUCCESS

    async def drain(self) -> None:
        """Waits for running turns and deliveries (server shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drive(
        self,
        key: str,
        openid: str,
        account: str,
        inbound: Inbound,
        on_new_message: OnNewMessage,
        deadline_at: float,
    ) -> None:
        decided = False
        try:
            collector = WeChatCollector()
            text, from_menu = await self._menus.resolve(openid, inbound.text or "")
            meta = inbound.metadata
            if from_menu:
                meta = {
                    "wechat": {**meta.get("wechat", {}), "menu_choice": inbound.text}
                }
            message = UserMessage(
                text=text,
                output_channel=collector,
                sender_id=openid,
                input_channel=CHANNEL_NAME,
                message_id=key,
                metadata=meta,
            )
            turn = asyncio.ensure_future(self._run(on_new_message, message))
            timeout = max(0.0, deadline_at - asyncio.get_running_loop().time())
            await asyncio.wait({turn}, timeout=timeout)
            in_time = turn.done()
            if in_time:
                await self._menus.remember(openid, collector.menu)
                replies = await self._replies(collector, inbound)
                candidate = (
                    passive(passive_reply(replies[0], openid, account))
                    if replies
                    else EMPTY
                )
            else:
                logger.info(
                    "Turn %s is slower than the deadline; answering later.", key
                )
                candidate = API
            decision = await self._dedup.decide(openid, key, candidate)
            decided = True
            if not in_time:
                await turn
                await self._menus.remember(openid, collector.menu)
                replies = await self._replies(collector, inbound)
            if passive_xml(decision) is not None:
                replies = replies[1:]
                if replies:
                    # The passive answer is still on its way back through WeChat.
                    await asyncio.sleep(self._settings.followup_delay_s)
            elif decision == EMPTY:
                replies = []
            await self.deliver(openid, replies)
        except Exception:  # a turn's boundary: the retry gets an empty answer
            logger.exception("WeChat turn %s failed.", key)
            if not decided:
                await self._dedup.decide(openid, key, EMPTY)

    @staticmethod
    async def _run(on_new_message: OnNewMessage, message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception:  # Rasa's boundary
            # Replies already sent stay collected; the answer goes out as usual.
            logger.exception("Rasa failed on WeChat message %s.", message.message_id)

    async def _replies(
        self, collector: WeChatCollector, inbound: Inbound
    ) -> list[Outbound]:
        if not inbound.deliver_replies:
            return []
        if await self._store.get(self._passive_only_key):
            # No customer-service API: everything must fit the one passive answer.
            merged = merge_texts(collector.messages)
            return merged or collector.messages[:1]
        return list(collector.messages)

    async def deliver(self, openid: str, replies: list[Outbound]) -> None:
        """Sends ``replies`` through the customer-service API, in order.

        Stops at the first failure (later replies would arrive out of context):
        45015 is logged, 48001 also switches the account to passive-only answers.
        """
        bodies = [
            b for reply in replies for b in customer_service_bodies(reply, openid)
        ]
        for sent, body in enumerate(bodies):
            try:
                await self._api.send_message(body)
            except WeChatApiError as e:
                left = len(bodies) - sent
                if e.errcode == OUTSIDE_WINDOW:
                    logger.warning(
                        "%s is outside WeChat's 48-hour window (45015); "
                        "%d replies not delivered.",
                        openid,
                        left,
                    )
                elif e.errcode == NOT_AUTHORISED:
                    logger.error(
                        "This account may not use the customer-service API (48001); "
                        "answering passively only from now on. %d replies lost.",
                        left,
                    )
                    await self._store.set(
                        self._passive_only_key, "1", PASSIVE_ONLY_TTL_S
                    )
                else:
                    logger.error(
                        "Delivery to %s failed (%s); %d replies lost.", openid, e, left
                    )
                return
