"""One WeChat message, one Rasa turn, one answer within WeChat's deadline.

``TurnRunner.answer`` is called by every try of a message. The first try starts
the turn as its own task; at the deadline (or earlier, when the turn is done) the
outcome is decided once (see ``wechat.dedup``): the first reply answers
passively and the rest goes through the customer-service API, or, when the turn is
slower than the deadline, WeChat gets ``success`` and every reply goes through the
API as soon as the turn ends. A turn is never cancelled.

The customer is never left in silence: a turn that ends with no reply at all (the
action server is down, so Rasa logs the action's exception and goes on with no
events; or Rasa raised) is answered with ``ChannelTexts.apology``, passively when
in time, else through the API; a turn still running after ``turn_timeout_s`` gets
the apology through the API while it runs on, and its late replies still follow.
API messages go through ``wechat.delivery`` (retries, then a durable queue).

A message's claim is a lease its replica renews while the turn runs
(``wechat.dedup``): when that replica dies, a try waiting for the turn, or
WeChat's next retry on any replica, takes the turn over. If the dead replica had
saved the turn in Rasa's tracker store, its recorded replies are sent
(``channels.turn_recovery``) instead of running the turn twice; otherwise the
turn runs here.

A turn whose action sent the handoff signal (``wechat.handoff``) is answered
passively with WeChat's ``transfer_customer_service`` (its text replies follow
through the API), and the user stays with the human agent: each of their
messages is transferred the same way and runs no turn, until the agent closes
the session (``kf_close_session``), the user unfollows, or ``handoff_timeout_s``
passes without a message. A handoff decided after the deadline cannot transfer
the message any more: ``ChannelTexts.handoff_late`` asks the user to write to
the agent, and the state is set all the same.

A turn whose action sent the erase signal (``privacy.erasure``) is followed, once
the turn is saved and its replies delivered, by the erasure of the openid's
conversation in Rasa's tracker store (``channels.tracker_erasure``), of the
channel's keys (``wechat.erasure``) and of its queued messages; the erasing
message's own claim and decision are written back, so WeChat's retries of it still
run no second turn. Over 300 lines as one module: these are the states of one
turn (claimed, in time, late, silent, timed out, erasing), decided in one place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import TrackerStore

from channels.output import CHANNEL_NAME, WeChatCollector
from channels.tracker_erasure import erase_conversation
from channels.turn_recovery import recorded_replies
from telemetry import metrics
from wechat.config import WeChatSettings
from wechat.dedup import API, EMPTY, Deduplicator, message_key, passive, passive_xml
from wechat.delivery import Delivery, MessageSender
from wechat.erasure import erase_openid
from wechat.handoff import Handoffs, wants_the_bot_back
from wechat.inflight import InFlight
from wechat.mapping import DirectReply, Inbound, MappingContext, to_inbound
from wechat.menus import MenuMemory
from wechat.rendering import (
    SUCCESS,
    Outbound,
    TextOut,
    customer_service_bodies,
    merge_texts,
    passive_reply,
    transfer_reply,
)
from wechat.storage import KeyValueStore
from wechat.texts import ChannelTexts

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
# Rasa's tracker store, looked up when needed (the agent may be replaced).
TrackerStoreSource = Callable[[], "TrackerStore | None"]
# After a 48001 the account is treated as passive-only for this long.
PASSIVE_ONLY_TTL_S = 3600
# How often a turn looks whether the follower's earlier messages are done.
EARLIER_POLL_S = 0.1

__all__ = ["MessageSender", "TurnRunner"]


class TurnRunner:
    """Runs turns exactly once and answers every try of a message.

    Args:
        settings: the channel's settings.
        store: memory or Redis, shared with the de-dup keys and menus.
        api: the customer-service API.
        texts: what the channel says by itself.
        retry_queue_path: the durable queue of API messages WeChat refused
            (``settings.retry_queue_path`` by default).
        turn_timeout_s: when a still-running turn gets the apology
            (``settings.turn_timeout_s`` by default).
        delivery: the API delivery; built over ``api`` when not given.
        tracker_store: Rasa's tracker store for data-deletion requests, when
            ``answer`` is given none.
    """

    def __init__(
        self,
        settings: WeChatSettings,
        store: KeyValueStore,
        api: MessageSender,
        *,
        texts: ChannelTexts,
        retry_queue_path: str | Path | None = None,
        turn_timeout_s: float | None = None,
        delivery: Delivery | None = None,
        tracker_store: TrackerStoreSource | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._texts = texts
        self._turn_timeout_s = turn_timeout_s or settings.turn_timeout_s
        self._tracker_store = tracker_store
        self._dedup = Deduplicator(
            store, settings.dedup_ttl_s, settings.app_id, settings.claim_lease_s
        )
        self._menus = MenuMemory(store, settings.menu_ttl_s, settings.app_id)
        self._handoffs = Handoffs(store, settings.handoff_timeout_s, settings.app_id)
        self._passive_only_key = f"{settings.app_id}:passive_only"
        self._delivery = delivery or Delivery(
            api,
            retry_queue_path or settings.retry_queue_path,
            on_not_authorised=self._passive_only,
        )
        self._delivery_started = False
        # Turns in progress on any replica, for the sweep; keys driven here.
        self._inflight = InFlight(store, settings.app_id, settings.dedup_ttl_s)
        self._driving: set[str] = set()
        # Turns that ended while Redis failed, whose end Redis has yet to learn.
        self._unsettled: set[tuple[str, str]] = set()
        # Strong references: the loop keeps only weak ones to running tasks.
        self._tasks: set[asyncio.Task[Any]] = set()

    async def answer(
        self,
        fields: Mapping[str, str],
        inbound: Inbound,
        on_new_message: OnNewMessage,
        started_at: float,
        tracker_store: TrackerStoreSource | None = None,
    ) -> str:
        """The body to answer this try with: passive reply XML or ``success``.

        Args:
            fields: the parsed (decrypted) message.
            inbound: its mapping.
            on_new_message: Rasa's handler, which runs the turn.
            started_at: ``loop.time()`` when the request arrived.
            tracker_store: Rasa's tracker store, for a data-deletion request.
        """
        if not self._delivery_started:
            # Replies an earlier process left queued go out from now on.
            self._delivery_started = True
            self._spawn(self._delivery.start())
        openid = fields.get("FromUserName", "")
        account = fields.get("ToUserName") or self._settings.account
        if inbound.direct_reply is not None:
            text = self._direct_text(inbound.direct_reply)
            return passive_reply(TextOut(text), openid, account)
        back_to_bot = wants_the_bot_back(inbound.text)
        if inbound.ends_handoff or not inbound.deliver_replies or back_to_bot:
            # The agent closed the session, the user unfollowed, or asked for
            # the bot again (then the bot answers that message).
            await self._handoffs.end(openid)
        if not inbound.text:
            return SUCCESS
        if inbound.deliver_replies and await self._handoffs.renew(openid):
            # With a human agent: the bot stays silent; each message renews it.
            return transfer_reply(openid, account)
        loop = asyncio.get_running_loop()
        key = message_key(dict(fields))
        turn = _Turn(
            key=key,
            openid=openid,
            account=account,
            inbound=inbound,
            deadline_at=started_at + self._settings.reply_deadline_s,
            timeout_at=started_at + self._turn_timeout_s,
            tracker_store=_first_of(tracker_store, self._tracker_store),
        )
        deadline_at = turn.deadline_at
        # Registered before the claim: a replica that dies right after claiming
        # leaves the turn where the sweep finds it. Not once the turn is over:
        # a late retry must not bring a finished turn back.
        if not await self._dedup.over(openid, key):
            await self._inflight.add(openid, key, fields)
        claimed = await self._dedup.claim(openid, key)
        if claimed:
            self._spawn(self._drive(turn, on_new_message))
        else:
            metrics.DEDUP_HITS.inc()
            logger.info("WeChat retried %s; waiting for the first try's turn.", key)

        def take_over() -> None:
            metrics.TAKEOVERS.inc()
            logger.warning(
                "The replica running turn %s stopped; taking the turn over.", key
            )
            self._spawn(self._drive(replace(turn, taken_over=True), on_new_message))

        decision = await self._dedup.wait(
            openid, key, deadline_at - loop.time(), on_takeover=take_over
        )
        if decision is None:
            # The turn runs on another replica and has not decided yet.
            decision = await self._dedup.decide(openid, key, API)
        elif (
            not claimed
            and await self._dedup.abandoned(openid, key)
            and await self._dedup.claim(openid, key)
        ):
            # Decided, but its replica died before the turn was over: its
            # remaining replies are still owed.
            take_over()
        return passive_xml(decision) or SUCCESS

    async def drain(self) -> None:
        """Waits for running turns and deliveries, stops resending (shutdown, tests).

        Queued messages stay in the retry queue; the next delivery resumes them.
        """
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._delivery.close()
        self._delivery_started = False

    def _direct_text(self, reply: DirectReply) -> str:
        if reply is DirectReply.ASK_TO_TYPE:
            return self._texts.ask_to_type
        raise AssertionError(f"no text for {reply}")  # every member is handled

    async def _passive_only(self) -> None:
        await self._store.set(self._passive_only_key, "1", PASSIVE_ONLY_TTL_S)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def sweep(
        self,
        on_new_message: OnNewMessage,
        context: MappingContext,
        tracker_store: TrackerStoreSource | None = None,
    ) -> int:
        """Finishes the turns whose replica died after WeChat got its answer.

        Such a turn gets no retry from WeChat to take it over (``wechat.inflight``):
        its lease lapsed, its claim is free. Claimed here, it runs as a late turn:
        replies the decision still owes go through the API, or, when the dead
        replica had saved the turn, what it said (``channels.turn_recovery``).

        Returns:
            How many turns this pass took over.
        """
        registered = await self._inflight.turns()  # also tells if Redis is back
        await self._settle()
        taken = 0
        for openid, key in registered:
            if (openid, key) in self._unsettled:  # over here; Redis not told yet
                continue
            entry = await self._inflight.entry(openid, key)
            if (
                key in self._driving
                # Younger than a lease: its try may be about to claim it.
                or (entry is not None and entry.age_s < self._settings.claim_lease_s)
                or not await self._dedup.abandoned(openid, key)
                or await self._dedup.awaited(openid, key)
            ):
                continue
            if entry is None:  # over long ago, or erased
                await self._inflight.remove(openid, key)
                continue
            fields = entry.fields
            if not await self._dedup.claim(openid, key):
                continue
            metrics.TAKEOVERS.inc()
            logger.warning(
                "The replica running turn %s stopped after WeChat's answer; "
                "finishing the turn here.",
                key,
            )
            # No try waits here for a passive answer: the API, unless decided.
            await self._dedup.decide(openid, key, API)
            now = asyncio.get_running_loop().time()
            turn = _Turn(
                key=key,
                openid=openid,
                account=fields.get("ToUserName") or self._settings.account,
                inbound=to_inbound(fields, context),
                deadline_at=now,  # WeChat has its answer: the API from here
                timeout_at=now + self._turn_timeout_s,
                tracker_store=_first_of(tracker_store, self._tracker_store),
                taken_over=True,
            )
            self._spawn(self._drive(turn, on_new_message))
            taken += 1
        return taken

    async def sweep_forever(
        self,
        on_new_message: OnNewMessage,
        context: MappingContext,
        tracker_store: TrackerStoreSource | None = None,
        every_s: float | None = None,
    ) -> None:
        """Sweeps every ``every_s`` (half the lease by default) until cancelled."""
        pause = every_s or self._settings.claim_lease_s / 2
        while True:
            await asyncio.sleep(pause)
            try:
                await self.sweep(on_new_message, context, tracker_store)
            except Exception:  # the next pass tries again
                logger.exception("Sweeping abandoned turns failed.")

    async def _drive(self, turn: _Turn, on_new_message: OnNewMessage) -> None:
        self._driving.add(turn.key)
        try:
            async with self._dedup.hold(turn.openid, turn.key):
                await self._drive_held(turn, on_new_message)
        finally:
            self._driving.discard(turn.key)
        try:
            await self._inflight.remove(turn.openid, turn.key)
        except Exception:  # the sweep drops it once the claim is done
            logger.exception("Unregistering turn %s failed.", turn.key)
        if getattr(self._store, "degraded", False):
            # Ended while Redis was failing: "done" and the unregistering went
            # to this process's memory, and Redis would show the turn abandoned.
            self._unsettled.add((turn.openid, turn.key))

    async def _settle(self) -> None:
        """Writes the end of turns that ended while Redis failed, once it is back."""
        if not self._unsettled or getattr(self._store, "degraded", False):
            return
        for openid, key in sorted(self._unsettled):
            await self._dedup.mark_done(openid, key)
            await self._inflight.remove(openid, key)
            self._unsettled.discard((openid, key))

    async def _drive_held(self, turn: _Turn, on_new_message: OnNewMessage) -> None:
        key, openid, inbound = turn.key, turn.openid, turn.inbound
        loop = asyncio.get_running_loop()
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
            running = asyncio.ensure_future(
                self._run_or_recover(turn, on_new_message, message)
            )
            await asyncio.wait(
                {running}, timeout=max(0.0, turn.deadline_at - loop.time())
            )
            in_time = running.done()
            replies: list[Outbound] = []
            if in_time:
                await self._menus.remember(openid, collector.menu)
                replies = await self._replies(collector, inbound)
                candidate = await self._passive_candidate(collector, replies, turn)
            else:
                metrics.LATE_TURNS.inc()
                logger.info(
                    "Turn %s is slower than the deadline; answering later.", key
                )
                candidate = API
            decision = await self._dedup.decide(openid, key, candidate)
            decided = True
            if not in_time:
                apologised = await self._wait_or_apologise(running, turn)
                await self._menus.remember(openid, collector.menu)
                replies = await self._replies(collector, inbound, apologised)
                if collector.handoff_requested and inbound.deliver_replies:
                    await self._handoffs.start(openid)
                    replies.append(TextOut(self._texts.handoff_late))
            transferred = collector.handoff_requested and decision == candidate
            metrics.count_reply(_reply_kind(decision, transferred))
            if passive_xml(decision) is not None and not transferred:
                replies = replies[1:]
                if replies:
                    # The passive answer is still on its way back through WeChat.
                    await asyncio.sleep(self._settings.followup_delay_s)
            elif decision == EMPTY:
                replies = []
            await self.deliver(openid, replies)
            if collector.erase_requested:
                await self._erase(turn, decision)
        except Exception:  # a turn's boundary: the retry gets an empty answer
            logger.exception("WeChat turn %s failed.", key)
            if not decided:
                await self._dedup.decide(openid, key, EMPTY)

    async def _passive_candidate(
        self, collector: WeChatCollector, replies: list[Outbound], turn: _Turn
    ) -> str:
        """The passive answer of a turn done in time: a transfer, a reply, or none.

        A transfer to a human agent starts the handoff; the turn's replies then
        all go through the API.
        """
        if collector.handoff_requested and turn.inbound.deliver_replies:
            await self._handoffs.start(turn.openid)
            return passive(transfer_reply(turn.openid, turn.account))
        if not replies:
            return EMPTY
        return passive(passive_reply(replies[0], turn.openid, turn.account))

    async def _wait_or_apologise(
        self, running: asyncio.Future[Any], turn: _Turn
    ) -> bool:
        """Waits for a late turn; apologises when it outlives ``turn_timeout_s``.

        Returns:
            Whether the apology was sent.
        """
        timeout = turn.timeout_at - asyncio.get_running_loop().time()
        await asyncio.wait({running}, timeout=max(0.0, timeout))
        if running.done():
            return False
        logger.warning(
            "Turn %s still runs after %.0fs; apologising, its replies follow later.",
            turn.key,
            self._turn_timeout_s,
        )
        apologised = turn.inbound.deliver_replies
        if apologised:
            metrics.APOLOGY_TIMEOUT.inc()
            await self.deliver(turn.openid, [TextOut(self._texts.apology)])
        await running  # never cancelled: its replies and tracker still count
        return apologised

    async def _run_or_recover(
        self, turn: _Turn, on_new_message: OnNewMessage, message: UserMessage
    ) -> None:
        """Runs the turn, or, taken over, replays what its saved turn said."""
        await self._after_earlier_turns(turn)
        store = turn.tracker_store() if turn.tracker_store is not None else None
        if turn.taken_over and store is not None:
            try:
                recorded = await recorded_replies(store, turn.openid, turn.key)
            except Exception:  # answering twice beats never answering
                logger.exception("Reading turn %s from the tracker failed.", turn.key)
                recorded = None
            if recorded is not None:
                logger.info(
                    "Turn %s was saved before its replica stopped; sending its "
                    "%d replies.",
                    turn.key,
                    len(recorded),
                )
                for reply in recorded:
                    await message.output_channel.send_response(turn.openid, reply)
                return
        await self._run(on_new_message, message)

    async def _after_earlier_turns(self, turn: _Turn) -> None:
        """Waits for the follower's earlier messages still in progress.

        One follower's messages reach Rasa in the order they were sent even when
        they land on different replicas: say the replica running the first one
        dies and nginx sends the next one elsewhere. The earlier turn is then
        finished first, by its replica or, once its lease lapses, by a sweep.
        Bounded by ``turn_timeout_s``: a turn never waits for ever.
        """
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self._turn_timeout_s
        while loop.time() < give_up_at:
            pending = [
                key
                for key in await self._inflight.earlier(turn.openid, turn.key)
                if not await self._dedup.over(turn.openid, key)
            ]
            if not pending:
                return
            await asyncio.sleep(EARLIER_POLL_S)
        logger.warning("Turn %s stopped waiting for earlier messages.", turn.key)

    @staticmethod
    async def _run(on_new_message: OnNewMessage, message: UserMessage) -> None:
        try:
            with metrics.timed(metrics.TURN):
                await on_new_message(message)
        except Exception:  # Rasa's boundary
            # Replies already sent stay collected; the answer goes out as usual
            # (the apology when there is none).
            logger.exception("Rasa failed on WeChat message %s.", message.message_id)

    async def _replies(
        self, collector: WeChatCollector, inbound: Inbound, apologised: bool = False
    ) -> list[Outbound]:
        if not inbound.deliver_replies:
            return []
        if not collector.messages:
            if apologised or collector.erase_requested or collector.handoff_requested:
                return []
            # Nothing at all: the action server is down, or Rasa failed.
            logger.warning("A WeChat turn ended without a reply; apologising.")
            metrics.APOLOGY_NO_REPLY.inc()
            return [TextOut(self._texts.apology)]
        if await self._store.get(self._passive_only_key):
            # No customer-service API: everything must fit the one passive answer.
            merged = merge_texts(collector.messages)
            return merged or collector.messages[:1]
        return list(collector.messages)

    async def deliver(self, openid: str, replies: list[Outbound]) -> None:
        """Sends ``replies`` through the customer-service API, in order.

        Failures worth another try are retried, then queued (``wechat.delivery``);
        45015 is logged, 48001 also switches the account to passive-only answers.
        Never raises.
        """
        bodies = [
            b for reply in replies for b in customer_service_bodies(reply, openid)
        ]
        await self._delivery.deliver(openid, bodies)

    async def _erase(self, turn: _Turn, decision: str) -> None:
        """Erases everything about the openid the turn asked to forget."""
        openid = turn.openid
        store = turn.tracker_store() if turn.tracker_store is not None else None
        if store is None:
            logger.error("No tracker store to erase %s's conversation from.", openid)
        else:
            try:
                events = await erase_conversation(store, openid)
                logger.info("Erased %d tracker records of %s.", events, openid)
            except Exception:  # each part on its own: one failure stops no other
                logger.exception("Erasing %s's conversation failed.", openid)
        try:
            keys = await erase_openid(self._store, self._settings.app_id, openid)
            await self._dedup.restore(openid, turn.key, decision)
            logger.info("Erased %d channel keys of %s.", keys, openid)
        except Exception:
            logger.exception("Erasing %s's channel keys failed.", openid)
        try:
            queued = await self._delivery.erase(openid)
            logger.info("Erased %d queued messages to %s.", queued, openid)
        except Exception:
            logger.exception("Erasing %s's queued messages failed.", openid)


@dataclass(frozen=True)
class _Turn:
    """One message's turn, as the runner drives it."""

    key: str
    openid: str
    account: str
    inbound: Inbound
    # loop.time() of the passive answer's deadline and of the apology.
    deadline_at: float
    timeout_at: float
    tracker_store: TrackerStoreSource | None
    # Claimed after the replica that ran it stopped (a lapsed lease).
    taken_over: bool = False


def _first_of(*sources: TrackerStoreSource | None) -> TrackerStoreSource:
    """The first tracker store any of ``sources`` gives."""

    def first() -> TrackerStore | None:
        for source in sources:
            store = source() if source is not None else None
            if store is not None:
                return store
        return None

    return first


def _reply_kind(decision: str, transferred: bool) -> str:
    """How a turn's message was answered, as ``aurora_replies_total`` counts it."""
    if transferred:
        return metrics.TRANSFER
    if passive_xml(decision) is not None:
        return metrics.PASSIVE
    return metrics.EMPTY if decision == EMPTY else metrics.API
