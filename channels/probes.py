"""The channel's operational routes: Prometheus metrics and the readiness probe.

Added to the channel's blueprint (``channels.wechat``), so under
``/webhooks/wechat/``:

- ``GET /metrics``: every metric of the Rasa process in Prometheus' text format;
  with ``AURORA_METRICS_TOKEN`` set, only for ``Authorization: Bearer <token>``
  (``telemetry.exposition`` says why it may otherwise be open);
- ``GET /ready``: 200 ``{"status": "ready"}`` when Rasa's agent has loaded its
  model and run it once (``channels.warmup``) and the channel's store answers,
  else 503 with the problems
  (``wechat.readiness``: a Redis outage after start leaves the replica ready,
  marked ``degraded``). ``GET /`` stays the liveness probe.

Neither says anything about a user; the readiness answer names no host.
"""

from __future__ import annotations

from collections.abc import Callable

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from telemetry.correlation import unbind
from telemetry.exposition import CONTENT_TYPE, authorised, metrics_token, render
from wechat.readiness import check_readiness
from wechat.storage import KeyValueStore


def add_probes(
    blueprint: Blueprint,
    store: KeyValueStore,
    warmed: Callable[[], bool] = lambda: True,
) -> None:
    """Adds ``/metrics`` and ``/ready`` to the channel's ``blueprint``.

    Args:
        blueprint: The channel's routes.
        store: The channel's store, which readiness pings.
        warmed: Whether the model has run once (``channels.warmup``).
    """
    # Read once: the token is part of the process's configuration.
    token = metrics_token()

    @blueprint.route("/metrics", methods=["GET"])
    async def metrics(request: Request) -> HTTPResponse:
        if not authorised(request.headers.get("Authorization"), token):
            return response.text("unauthorised", status=401)
        return response.raw(render(), content_type=CONTENT_TYPE)

    @blueprint.route("/ready", methods=["GET"])
    async def ready(request: Request) -> HTTPResponse:
        unbind()  # a kept-alive connection may have carried a message before
        agent = getattr(request.app.ctx, "agent", None)
        agent_ready = agent is not None and bool(agent.is_ready()) and warmed()
        readiness = await check_readiness(agent_ready, store)
        return response.json(
            readiness.to_json(), status=200 if readiness.ready else 503
        )
