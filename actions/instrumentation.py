"""Metrics of the action server: ``GET /metrics`` and the latency of each action.

``instrument(app, token)`` adds to rasa-sdk's app:

- ``GET /metrics``: the process's metrics in Prometheus' text format (actions,
  copy-generator and database fallbacks). It is guarded by its own token,
  ``AURORA_METRICS_TOKEN`` (``Authorization: Bearer``), not by the action token:
  Prometheus must not hold a secret that can run actions (write leads, erase
  data), and the metrics hold no personal data. Unset, it is open, like
  ``/health``: the server listens on loopback unless ``--host`` says otherwise;
  with another host, set the token (``telemetry.exposition``).
- around ``POST /webhook``: ``aurora_action_seconds{action}`` per call, and
  ``aurora_action_errors_total{action}`` for an HTTP error (a 5xx, or 404 for an
  unknown action). Action names come from the calls, so they are capped
  (``telemetry.metrics.action_label``); an unknown action counts as ``unknown``.

A call's log lines carry the correlation id of the WeChat message its turn
answers (``telemetry.correlation``): the tracker Rasa sends holds the latest
``user`` event with the message's id (the channel's de-dup key), so the Rasa
process and the action server log one message under one id.

Only calls past the action token are measured: the middleware runs after the
token guard, which answers refused calls itself.
"""

from __future__ import annotations

import time
from typing import Final

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

from telemetry.correlation import bind_message, unbind
from telemetry.exposition import CONTENT_TYPE, authorised, render
from telemetry.metrics import ACTION_ERRORS, ACTION_SECONDS, action_label

METRICS_PATH: Final = "/metrics"
WEBHOOK_PATH: Final = "/webhook"
UNKNOWN_ACTION: Final = "unknown"
# rasa-sdk answers an unknown action with 404, a form's rejection with 400.
NOT_FOUND: Final = 404


def instrument(app: Sanic, token: str | None) -> None:
    """Adds ``/metrics`` and the per-action measurements to ``app``.

    Args:
        app: rasa-sdk's app, with the action token's guard already registered.
        token: The token a scrape must carry; None: open.
    """

    @app.get(METRICS_PATH)
    async def metrics(request: Request) -> HTTPResponse:
        if not authorised(request.headers.get("Authorization"), token):
            return response.json({"error": "metrics token required"}, status=401)
        return response.raw(render(), content_type=CONTENT_TYPE)

    async def start(request: Request) -> None:
        if request.path == WEBHOOK_PATH:
            request.ctx.aurora_started = time.perf_counter()
            _bind_message(request)

    async def observe(request: Request, answer: BaseHTTPResponse) -> None:
        started = getattr(request.ctx, "aurora_started", None)
        if started is None:
            return
        status = answer.status
        action = UNKNOWN_ACTION if status == NOT_FOUND else _action_name(request)
        ACTION_SECONDS.labels(action).observe(time.perf_counter() - started)
        if status >= 500 or status == NOT_FOUND:
            ACTION_ERRORS.labels(action).inc()

    app.register_middleware(start, "request")
    app.register_middleware(observe, "response")


def _call(request: Request) -> dict[str, object]:
    """The action call's JSON; Sanic parses it once, for rasa-sdk's handler too."""
    try:
        call = request.json
    except Exception:  # a compressed or broken body: rasa-sdk answers it
        return {}
    return call if isinstance(call, dict) else {}


def _bind_message(request: Request) -> None:
    """Binds the correlation id of the message this call's turn answers."""
    tracker = _call(request).get("tracker")
    tracker = tracker if isinstance(tracker, dict) else {}
    events = tracker.get("events")
    # The latest user event is the message being answered (it is near the end).
    latest = next(
        (
            event
            for event in reversed(events if isinstance(events, list) else [])
            if isinstance(event, dict) and event.get("event") == "user"
        ),
        {},
    )
    message_id = latest.get("message_id")
    sender = tracker.get("sender_id")
    if isinstance(message_id, str) and message_id:
        bind_message(message_id, sender if isinstance(sender, str) else "")
    else:
        # A kept-alive connection may have carried another message's call.
        unbind()


def _action_name(request: Request) -> str:
    """The called action's name (``next_action``), capped; ``unknown`` if absent."""
    name = _call(request).get("next_action")
    if not isinstance(name, str) or not name:
        return UNKNOWN_ACTION
    return action_label(name)
