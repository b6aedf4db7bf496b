"""Every Prometheus instrument of the project, defined once (``aurora_*``).

Each process registers them all in prometheus-client's default registry and
exposes the ones it observes (``telemetry.exposition``): the Rasa process the
channel's stages, replies and fallbacks, the action server its actions, the
sources of chat copy and database fallbacks. Labels take only values from small
fixed sets (stages, reply kinds, reasons) or from sets guarded by
``BoundedLabel`` (action names, WeChat error codes); never an openid, a message
id or a text, so a series is never created per request.

Observing costs one dictionary lookup and a lock (a few hundred nanoseconds):
adapters call the pre-bound children below rather than ``labels()`` per turn.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Final

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# The text format would add a ``*_created`` sample to every counter and
# histogram series: a quarter of a scrape's size, and nobody queries them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Seconds. Dense below WeChat's 5 s (a passive answer must come by 4.5 s), sparse
# above it (late turns, the 30 s apology); few buckets keep a scrape cheap.
LATENCY_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    4.5,
    10.0,
    30.0,
)
# The value a bounded label takes once its set is full.
OTHER: Final = "other"


class BoundedLabel:
    """Caps the distinct values of one label; any later new value is ``other``.

    For labels whose values come from outside (action names a caller sends,
    WeChat's error codes): a bug or a hostile caller cannot create series
    without end.

    Args:
        limit: How many distinct values are kept.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        """``value`` while the set has room for it (or holds it), else ``other``."""
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) >= self._limit:
                return OTHER
            self._seen.add(value)
        return value


# --- stages of a WeChat message (Rasa process) ----------------------------------

STAGE_SECONDS: Final = Histogram(
    "aurora_stage_seconds",
    "Latency of one stage of a WeChat message: verify (signature, decryption, "
    "parsing), turn (Rasa's whole turn: NLU, policies, actions), nlu (the NLU "
    "component), reply (rendering and encrypting the passive answer), delivery "
    "(a turn's customer-service API messages, retries included).",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)
VERIFY: Final = STAGE_SECONDS.labels("verify")
TURN: Final = STAGE_SECONDS.labels("turn")
NLU: Final = STAGE_SECONDS.labels("nlu")
REPLY: Final = STAGE_SECONDS.labels("reply")
DELIVERY: Final = STAGE_SECONDS.labels("delivery")

# --- outcomes of turns (Rasa process) -------------------------------------------

PASSIVE: Final = "passive"
API: Final = "api"
EMPTY: Final = "empty"
TRANSFER: Final = "transfer"
REPLY_KINDS: Final = (PASSIVE, API, EMPTY, TRANSFER)
REPLIES: Final = Counter(
    "aurora_replies",
    "Messages answered, by how: passive (in the HTTP answer), api (customer-"
    "service API only), empty (nothing to say), transfer (to a human agent).",
    ["kind"],
)
LATE_TURNS: Final = Counter(
    "aurora_late_turns",
    "Turns still running at the passive deadline (their replies went through the API).",
)
NO_REPLY: Final = "no_reply"
TIMEOUT: Final = "timeout"
APOLOGIES: Final = Counter(
    "aurora_apologies",
    "Apologies sent: no_reply (a turn ended without a reply), timeout (a turn "
    "outlived turn_timeout_s).",
    ["reason"],
)
TAKEOVERS: Final = Counter(
    "aurora_takeovers",
    "Turns taken over from a replica that stopped renewing its claim.",
)
DEDUP_HITS: Final = Counter(
    "aurora_dedup_hits",
    "Tries of a message that found it claimed (WeChat's retries): no second turn.",
)
RATE_LIMITED: Final = Counter(
    "aurora_rate_limited", "Messages over a user's rate limit: no turn."
)
REJECTED: Final = Counter(
    "aurora_requests_rejected",
    "Webhook requests rejected, by reason (the error's class name).",
    ["reason"],
)
API_ERRORS: Final = Counter(
    "aurora_wechat_api_errors",
    "WeChat API calls that failed, by errcode (-1: transport error or HTTP 5xx, "
    "-2: other HTTP status).",
    ["errcode"],
)
errcode_label: Final = BoundedLabel(64)

# --- fallbacks ----------------------------------------------------------------

STORE_FALLBACKS: Final = Counter(
    "aurora_store_fallbacks",
    "Channel store calls served from this process's memory (Redis failing).",
)
STORE_DEGRADED: Final = Gauge(
    "aurora_store_degraded",
    "1 while the channel store serves from memory (Redis failing), else 0.",
    multiprocess_mode="max",
)
# Reads answered without the database; writes sent to the outbox, or lost; the
# Rasa process's follower activity set aside.
READ: Final = "read"
OUTBOX: Final = "outbox"
LOST: Final = "lost"
ACTIVITY: Final = "activity"
DATABASE_FALLBACKS: Final = Counter(
    "aurora_database_fallbacks",
    "Marketing store operations that fell back: read (answered without the "
    "database), outbox (a write queued in the outbox), lost (neither took it), "
    "activity (follower activity records set aside).",
    ["kind"],
)
APPROVED_COPY: Final = "approved"
TEMPLATE_COPY: Final = "template"
CHAT_COPIES: Final = Counter(
    "aurora_chat_copies",
    "Marketing copy shown in chat, by source: approved (a draft a marketer "
    "approved) or template (none approved for the offer and tone, or the store "
    "was down).",
    ["source"],
)

# --- the action server ----------------------------------------------------------

ACTION_SECONDS: Final = Histogram(
    "aurora_action_seconds",
    "Latency of one action call on the action server, by action.",
    ["action"],
    buckets=LATENCY_BUCKETS,
)
ACTION_ERRORS: Final = Counter(
    "aurora_action_errors",
    "Action calls that failed (an apology sent, or an HTTP error answered), by action.",
    ["action"],
)
action_label: Final = BoundedLabel(200)

# Every series of a fixed label set exists from the start (0 rather than absent),
# so rates and alerts work before the first event.
_REPLIES_BY_KIND: Final = {kind: REPLIES.labels(kind) for kind in REPLY_KINDS}
APOLOGY_NO_REPLY: Final = APOLOGIES.labels(NO_REPLY)
APOLOGY_TIMEOUT: Final = APOLOGIES.labels(TIMEOUT)
for _kind in (READ, OUTBOX, LOST, ACTIVITY):
    DATABASE_FALLBACKS.labels(_kind)
for _source in (APPROVED_COPY, TEMPLATE_COPY):
    CHAT_COPIES.labels(_source)


def count_reply(kind: str) -> None:
    """Counts one answered message of ``kind`` (one of ``REPLY_KINDS``)."""
    _REPLIES_BY_KIND[kind].inc()


def count_api_error(errcode: int) -> None:
    """Counts one failed WeChat API call."""
    API_ERRORS.labels(errcode_label(str(errcode))).inc()


class timed:  # lower case: it reads as a function, ``with timed(TURN):``
    """Observes the block's duration into ``child`` (a pre-bound histogram).

    Also when the block raises: a failed stage took that long too. A class
    rather than ``@contextmanager``: a fifth of the cost, once per stage and turn.
    """

    __slots__ = ("_child", "_started")

    def __init__(self, child: Histogram) -> None:
        self._child = child
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._child.observe(time.perf_counter() - self._started)
