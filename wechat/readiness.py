"""Whether a replica of the bot should get WeChat's traffic (the readiness probe).

Ready: the agent (the trained model) is loaded and the channel's store answers.
The store is asked with one ``PING`` (``KeyValueStore.ping``, bounded by
``store_timeout_s``); the in-process store always answers.

With Redis behind ``FailoverStore`` the answer depends on history:

- Redis has never answered since this process started (a wrong URL or password,
  Redis not up yet): **not ready**. A new replica with a broken store must not
  take traffic; a rolling update stops there and the old replicas keep serving.
- Redis answered before and fails now: **ready, degraded**. Every replica shares
  that Redis, so an outage hits them all at once; were they all unready, the
  load balancer would have no backend left and WeChat's messages would be lost,
  while ``FailoverStore`` exists to keep answering from memory (de-dup and rate
  limits then hold per replica). The outage shows in the answer's ``degraded``
  list and in ``aurora_store_degraded`` / ``aurora_store_fallbacks_total``,
  which is what to alert on.

Plain Python, no Rasa: the channel passes whether its agent is ready.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from wechat.errors import StoreError
from wechat.storage import FailoverStore, KeyValueStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    """The answer of the readiness probe.

    Attributes:
        problems: Why the replica must not get traffic (empty: ready).
        degraded: What fails while it still serves.
    """

    problems: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """True when nothing keeps the replica from serving."""
        return not self.problems

    def to_json(self) -> dict[str, object]:
        """The probe's JSON body: ``status``, and the lists that are not empty."""
        body: dict[str, object] = {"status": "ready" if self.ready else "not ready"}
        if self.problems:
            body["problems"] = self.problems
        if self.degraded:
            body["degraded"] = self.degraded
        return body


async def check_readiness(agent_ready: bool, store: KeyValueStore) -> Readiness:
    """Whether the replica may serve: the agent and the store (see the module).

    Args:
        agent_ready: Whether Rasa's agent has loaded its model.
        store: The channel's store.
    """
    problems = [] if agent_ready else ["agent: no model loaded yet"]
    degraded: list[str] = []
    try:
        await store.ping()
    except StoreError as e:
        # The details (host, port) go to the log, not to whoever asks.
        logger.warning("Readiness: the channel's store does not answer: %s", e)
        if isinstance(store, FailoverStore) and store.answered:
            degraded.append("store: does not answer; serving from memory")
        else:
            problems.append("store: does not answer")
    return Readiness(problems, degraded)
