"""The action server: rasa-sdk's app behind a token, on loopback by default.

``python -m actions.server`` serves the actions of this package as ``rasa run
actions`` does, with two differences:

- every request except ``GET /health`` and ``GET /metrics`` must carry the token
  ``AURORA_ACTION_TOKEN``: Rasa sends it as ``?token=`` (``token:`` of the action
  endpoint in ``endpoints.yml``), other clients may send ``Authorization: Bearer``.
  No token: 401; a wrong one: 403 (compared in constant time);
- it listens on 127.0.0.1 unless ``--host`` says otherwise;
- ``GET /metrics`` serves Prometheus metrics behind ``AURORA_METRICS_TOKEN``, if
  set (``actions.instrumentation``);
- ``AURORA_LOG_FORMAT=json`` logs one JSON object per line (``telemetry``);
- a thread replays the marketing outbox (``marketing.replayer``) while writes
  wait in it, so they reach the database soon after it is back;
- with ``AURORA_SALES_WEBHOOK_URL`` set, a thread posts good leads to sales
  (``marketing.sales_webhook``), retrying with backoff;
- before it serves, it reads the catalog, which every action shares, and warms
  the recommender.

In the production profile (``AURORA_PROFILE=production``) it refuses to start
without a token or with the sample token of ``dev.env``; elsewhere it starts
without one (open, on loopback) and says so.

rasa-sdk's executor imports every module of this package, this one included:
importing it defines functions and constants and starts nothing.
"""

from __future__ import annotations

import argparse
import functools
import hmac
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Final

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.catalog_action import shared_catalog
from actions.instrumentation import METRICS_PATH, instrument
from catalog.errors import CatalogError
from catalog.model import Catalog
from marketing.connection import LazyStore
from marketing.outbox import MarketingOutbox
from marketing.replayer import OutboxReplayer
from marketing.sales_webhook import SalesNotifier, lead_hook
from marketing.settings import (
    ENV_PREFIX,
    PRODUCTION,
    Settings,
    SettingsError,
    data_cipher,
    load_settings,
)
from marketing.store import MarketingStore
from outbox.queue import DurableQueue, QueueError
from recommender.hybrid import HybridRecommender, Profile
from recommender.query import Query
from telemetry import json_logs
from telemetry.exposition import TOKEN_ENV as METRICS_TOKEN_ENV
from telemetry.exposition import metrics_token
from telemetry.json_logs import LogFormatError

logger = logging.getLogger(__name__)

TOKEN_ENV: Final = f"{ENV_PREFIX}ACTION_TOKEN"
PROFILE_ENV: Final = f"{ENV_PREFIX}PROFILE"
PRODUCTION_PROFILE: Final = PRODUCTION
# The token dev.env sets for `make run`; production refuses it.
SAMPLE_ACTION_TOKEN: Final = "aurora-dev-action-token"
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 5055
# rasa-sdk's liveness probe answers without a token (it says nothing); the
# metrics have a token of their own (Prometheus must not hold the action token).
OPEN_PATHS: Final = frozenset({"/health", METRICS_PATH})

Middleware = Callable[[Request], Coroutine[None, None, HTTPResponse | None]]


class ServerConfigError(Exception):
    """The action server must not start as configured; the message says why."""


def token_from(environ: Mapping[str, str]) -> str | None:
    """The token requests must carry, checked against the profile.

    Args:
        environ: The environment (``AURORA_ACTION_TOKEN``, ``AURORA_PROFILE``).

    Returns:
        The token, or None (outside production only) for an open server.

    Raises:
        ServerConfigError: production without a token or with the sample one.
    """
    token = environ.get(TOKEN_ENV) or None
    if environ.get(PROFILE_ENV, "").strip().lower() != PRODUCTION_PROFILE:
        return token
    if token is None:
        raise ServerConfigError(
            f"{PROFILE_ENV}={PRODUCTION_PROFILE} needs {TOKEN_ENV}: set it to a long "
            "random secret, and the same value where Rasa reads endpoints.yml."
        )
    if hmac.compare_digest(token.encode(), SAMPLE_ACTION_TOKEN.encode()):
        raise ServerConfigError(
            f"{TOKEN_ENV} is the sample token of dev.env; set a secret of your own "
            f"for {PROFILE_ENV}={PRODUCTION_PROFILE}."
        )
    return token


def _sent_token(request: Request) -> str | None:
    query = request.args.get("token")
    if query:
        return str(query)
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


def token_guard(token: str) -> Middleware:
    """A request middleware that lets through only requests carrying ``token``."""
    expected = token.encode("utf-8")

    async def guard(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        sent = _sent_token(request)
        if sent is None:
            return response.json({"error": "token required"}, status=401)
        if not hmac.compare_digest(sent.encode("utf-8"), expected):
            return response.json({"error": "invalid token"}, status=403)
        return None

    return guard


def make_app(
    token: str | None, package: str = "actions", metrics: str | None = None
) -> Sanic:
    """rasa-sdk's action server app for ``package``, behind ``token`` when given.

    Args:
        token: The token every request but ``/health`` and ``/metrics`` must
            carry; None: open.
        package: The package of the actions.
        metrics: The token ``/metrics`` wants (``AURORA_METRICS_TOKEN``); None:
            open.
    """
    app: Sanic = create_app(package)
    if token is not None:
        app.register_middleware(token_guard(token), "request")
    instrument(app, metrics)
    return app


def _lazy_store(settings: Settings) -> LazyStore:
    connect = functools.partial(MarketingStore.from_url, cipher=data_cipher(settings))
    return LazyStore(settings.database_url, connect=connect)


def outbox_replayer(settings: Settings) -> OutboxReplayer:
    """The thread that replays the marketing outbox while entries wait."""
    outbox = MarketingOutbox(
        DurableQueue(settings.outbox_path), on_lead=lead_hook(settings)
    )
    return OutboxReplayer(outbox, _lazy_store(settings))


def sales_notifier(settings: Settings) -> SalesNotifier | None:
    """The thread that posts good leads to sales; ``None`` without a webhook URL."""
    if not settings.sales_webhook_url:
        return None
    return SalesNotifier.from_settings(settings, _lazy_store(settings))


def warm_up(read_catalog: Callable[[], Catalog] = shared_catalog) -> bool:
    """Does before the first customer waits what the first calls would do.

    Reads the catalog every action shares, and makes one recommendation, whose
    text ranking imports scikit-learn (0.3 s).

    Args:
        read_catalog: Reads and keeps the shared catalog.

    Returns:
        Whether the catalog was read; if not, the error is logged and each action
        tries again on its call (and apologises while the file stays broken).
    """
    try:
        catalog = read_catalog()
    except (OSError, CatalogError) as e:
        logger.error("Catalog not read at start (%s); actions try again.", e)
        return False
    HybridRecommender(catalog.products, []).recommend(Query(text="手机"), Profile())
    return True


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m actions.server``."""
    parser = argparse.ArgumentParser(description="The action server, token-protected")
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="interface (default: loopback only)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--actions", default="actions", help="package of the actions")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serves the actions until interrupted; 2 when the configuration is unsafe."""
    args = build_parser().parse_args(argv)
    try:
        token = token_from(os.environ)
        json_logs.log_format(os.environ)
        settings = load_settings()
        replayer = outbox_replayer(settings)
        notifier = sales_notifier(settings)
    except (ServerConfigError, SettingsError, QueueError, LogFormatError) as e:
        print(f"Action server not started: {e}", file=sys.stderr)
        return 2
    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    json_logs.configure(os.environ)
    if token is None:
        logger.warning("%s is not set: the action server takes any request.", TOKEN_ENV)
    scrape_token = metrics_token(os.environ)
    if scrape_token is None and args.host != DEFAULT_HOST:
        logger.warning(
            "%s is not set: /metrics is open on %s.", METRICS_TOKEN_ENV, args.host
        )
    app = make_app(token, args.actions, scrape_token)
    warm_up()
    replayer.start()
    if notifier is not None:
        notifier.start()
    logger.info("Action server on http://%s:%d", args.host, args.port)
    try:
        app.run(args.host, args.port, workers=utils.number_of_sanic_workers())
    finally:
        replayer.stop()
        if notifier is not None:
            notifier.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
