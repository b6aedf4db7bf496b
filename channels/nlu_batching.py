"""Reads WeChat messages with the agent's NLU in a worker thread, several at once.

Rasa runs NLU on its event loop, one message at a time, inside the turn. Under
load the encoder's forward pass was a third of the loop's time, and each pass
reads every weight of the encoder from memory for one short text. Before a WeChat
turn starts, :class:`BatchedNlu` parses its message through the agent's own NLU
graph (``processor.graph_runner``, the model's NLU target, the same
post-processing as ``MessageProcessor.parse_message``) in one worker thread,
with every message that arrived while the previous batch ran; the turn then
hands Rasa the result as ``UserMessage.parse_data``, which Rasa uses instead of
parsing again. torch releases the GIL while it computes, so the event loop serves
other turns meanwhile, and a batch of four costs about what two single messages
cost.

A quiet bot parses each message alone, at once (no waiting to fill a batch). Only
the encoder's padding differs in a batch: the scores differ from a single
message's by float rounding (about 1e-6), never the ranking. When the agent has no
NLU of its own to run (not loaded, an NLU HTTP endpoint) or the parse fails, the
message goes to Rasa unparsed and Rasa parses it as always.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)

logger = logging.getLogger(__name__)

ParseData = dict[str, Any]
# Parses messages in order (runs in the worker thread).
ParseBatch = Callable[[Sequence[UserMessage]], list[ParseData]]
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
# Most messages in one forward pass (the NLU component's own batch size is 32).
DEFAULT_MAX_BATCH = 16


class BatchedNlu:
    """Parses messages in one worker thread, batching those that wait.

    Args:
        max_batch: most messages parsed together.
    """

    def __init__(self, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self._max_batch = max_batch
        self._waiting: list[tuple[UserMessage, asyncio.Future[ParseData | None]]] = []
        self._running: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    def before(
        self, on_new_message: OnNewMessage, parser: Callable[[], ParseBatch | None]
    ) -> OnNewMessage:
        """``on_new_message`` that first parses the message (see the module docstring).

        Args:
            on_new_message: Rasa's handler, which runs the turn.
            parser: the agent's NLU when the turn starts (:func:`agent_parser`);
                None leaves the parsing to Rasa.
        """

        async def parse_then_handle(message: UserMessage) -> Any:
            parse = parser()
            if parse is not None and message.parse_data is None and message.text:
                message.parse_data = await self.parse(message, parse)
            return await on_new_message(message)

        return parse_then_handle

    async def parse(self, message: UserMessage, parse: ParseBatch) -> ParseData | None:
        """The parse data of ``message``; None when the batch failed."""
        future: asyncio.Future[ParseData | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append((message, future))
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._drain(parse))
        return await future

    async def close(self) -> None:
        """Waits for the batch in progress and stops the worker thread."""
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def _drain(self, parse: ParseBatch) -> None:
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="wechat-nlu")
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            messages = [message for message, _ in batch]
            try:
                results: Sequence[ParseData | None] = await loop.run_in_executor(
                    self._executor, parse, messages
                )
                if len(results) != len(batch):
                    raise ValueError(f"{len(results)} parses of {len(batch)} messages")
            except Exception:  # Rasa then parses each message itself
                logger.exception("Batched NLU failed; Rasa parses these messages.")
                results = [None] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


def agent_parser(agent: Agent | None) -> ParseBatch | None:
    """The agent's NLU as a :data:`ParseBatch`; None when Rasa must parse itself.

    That is when no model is loaded, the model has no NLU, or NLU is an HTTP
    endpoint (``processor.http_interpreter``).
    """
    processor = getattr(agent, "processor", None) if agent is not None else None
    if processor is None or processor.http_interpreter is not None:
        return None
    target = processor.model_metadata.nlu_target
    if not target:
        return None

    def parse(messages: Sequence[UserMessage]) -> list[ParseData]:
        # As MessageProcessor.parse_message: the NLU target of the model's graph
        # (it reads no tracker), then the same post-processing per message.
        results = processor.graph_runner.run(
            inputs={
                PLACEHOLDER_MESSAGE: list(messages),
                PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("", []),
            },
            targets=[target],
        )
        parsed = []
        for message in results[target]:
            parse_data: ParseData = {
                TEXT: "",
                INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
                ENTITIES: [],
            }
            parse_data.update(message.as_dict(only_output_properties=True))
            processor._update_full_retrieval_intent(parse_data)
            processor._check_for_unseen_features(parse_data)
            parsed.append(parse_data)
        return parsed

    return parse
