"""The contract's probe and metrics paths are routes the servers really serve.

The other tests tie every Dockerfile, compose file, manifest and nginx file to
the paths of ``tests/deploy/contract.py``; these tie those paths to the apps:
the one ``rasa run`` builds from ``credentials.yml`` and the action server's.
"""

from __future__ import annotations

import pytest
from rasa.core.run import configure_app, create_http_input_channels
from sanic import Sanic

from actions.server import make_app
from tests.deploy.contract import (
    ACTION_HEALTH,
    ACTION_METRICS,
    BOT_METRICS,
    LIVENESS,
    READINESS,
    ROOT,
    WEBHOOK,
    file_variables,
)
from tools.bot_servers import dev_environment


def paths(app: Sanic) -> set[str]:
    """The app's route paths, without a trailing slash (Sanic matches both)."""
    return {"/" + route.path.strip("/") for route in app.router.routes_all.values()}


def bare(path: str) -> str:
    return "/" + path.strip("/")


def test_rasa_run_serves_the_webhook_and_the_probes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    samples = dev_environment(ROOT / "dev.env")
    # Every variable credentials.yml reads: a sample, or empty (the default).
    for name in file_variables("credentials.yml"):
        monkeypatch.setenv(name, samples.get(name, ""))
    Sanic.test_mode = True  # several Rasa apps of the same name in one process
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    served = paths(configure_app(channels, enable_api=False))
    expected = {bare(p) for p in (WEBHOOK, LIVENESS, READINESS, BOT_METRICS)}
    assert expected <= served, sorted(expected - served)


def test_the_action_server_serves_its_health_check_and_metrics() -> None:
    Sanic.test_mode = True
    served = paths(make_app(None))
    assert {ACTION_HEALTH, ACTION_METRICS, "/webhook"} <= served
