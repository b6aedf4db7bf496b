"""Runs the model once before a replica takes WeChat's traffic.

A freshly loaded agent's first turn is slow: TensorFlow traces the policy's
graph and torch allocates on its first call, seconds of work that hold the
event loop. Under traffic that stall makes Redis calls time out and leases lapse
(the cluster test saw both); before traffic it costs nothing. So the channel
runs one message through NLU and the policies when the server starts, on a
tracker that is never saved, and the readiness probe waits for it.
"""

from __future__ import annotations

import logging
import time

from rasa.core.agent import Agent
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

# A greeting: every model has an intent for it.
WARMUP_TEXT = "你好"
WARMUP_SENDER = "aurora-warmup"


async def warm_up(agent: Agent) -> None:
    """Parses ``WARMUP_TEXT`` and predicts the next action once; never raises."""
    started = time.monotonic()
    try:
        parse = await agent.parse_message(WARMUP_TEXT)
        domain = agent.domain
        tracker = DialogueStateTracker.from_events(
            WARMUP_SENDER,
            [
                ActionExecuted(ACTION_LISTEN_NAME),
                UserUttered(
                    WARMUP_TEXT,
                    intent=parse.get("intent"),
                    entities=parse.get("entities", []),
                    parse_data=parse,
                ),
            ],
            slots=domain.slots if domain is not None else None,
        )
        if agent.processor is not None:
            agent.processor.predict_next_with_tracker(tracker)
    except Exception:  # serving cold is slower, not wrong
        logger.exception("Warming the model up failed; serving it cold.")
        return
    logger.info("Model warmed up in %.1f s.", time.monotonic() - started)
