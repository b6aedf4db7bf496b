"""A scrape: the metrics in Prometheus' text format, behind an optional token.

``/metrics`` routes (the channel's ``/webhooks/wechat/metrics``, the action
server's ``/metrics``) call ``render`` and, when ``AURORA_METRICS_TOKEN`` is set,
let through only ``Authorization: Bearer <token>`` (compared in constant time).
Unset, they are open: the servers listen on loopback by default and nginx
proxies only the webhook; in a pod, where they listen on every interface, set
the token and give it to Prometheus (``authorization`` of its scrape config).
The metrics hold counts and latencies only, never an openid or a text.

With ``PROMETHEUS_MULTIPROC_DIR`` set (several worker processes, e.g. the action
server's ``ACTION_SERVER_SANIC_WORKERS``), a scrape sums every worker's files,
as prometheus-client's multiprocess mode documents.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

TOKEN_ENV: Final = "AURORA_METRICS_TOKEN"
MULTIPROCESS_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST


def metrics_token(environ: Mapping[str, str] = os.environ) -> str | None:
    """The token a scrape must carry; None (open) when unset or empty."""
    return environ.get(TOKEN_ENV) or None


def authorised(authorization: str | None, token: str | None) -> bool:
    """Whether a request with this ``Authorization`` header may scrape.

    Args:
        authorization: The request's header, if any.
        token: The expected token; None lets everyone through.
    """
    if token is None:
        return True
    scheme, _, sent = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not sent:
        return False
    return hmac.compare_digest(sent.strip().encode("utf-8"), token.encode("utf-8"))


def render(environ: Mapping[str, str] = os.environ) -> bytes:
    """Every metric of this process (or of all workers) in the text format."""
    directory = environ.get(MULTIPROCESS_ENV)
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
