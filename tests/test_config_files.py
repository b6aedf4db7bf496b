"""What ``make run`` exposes and where its secrets come from.

``credentials.yml`` and ``endpoints.yml`` hold no secret, only ``${NAME}``;
``dev.env`` is the one place with sample values, and they are the ones the
channel and the action server refuse in production. ``make run`` serves the
WeChat channel alone on loopback; ``make run-dev`` adds REST and the HTTP API
behind a token.
"""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.run import configure_app, create_http_input_channels
from rasa.shared.exceptions import RasaException
from sanic import Sanic

from actions.server import SAMPLE_ACTION_TOKEN
from tests.e2e_servers import dev_environment
from tools.bot_servers import env_file

ROOT = Path(__file__).resolve().parents[1]
WECHAT = "channels.wechat.WeChatInput"
SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_KEY", "_APP_ID")
VARIABLE = re.compile(r"^\$\{([A-Z][A-Z0-9_]*)\}$")


def raw(name: str) -> dict[str, Any]:
    """A YAML file as written (PyYAML does not replace ``${NAME}``)."""
    document: dict[str, Any] = yaml.safe_load((ROOT / name).read_text("utf-8"))
    return document


def test_dev_env_has_the_samples_the_production_profile_refuses() -> None:
    samples = dev_environment()
    # SAMPLE_CREDENTIALS: {key: (sample value, variable)}, from the channel's
    # settings (helper A1's wechat/config.py).
    config = importlib.import_module("wechat.config")
    refused = getattr(config, "SAMPLE_CREDENTIALS", None)
    assert refused, "wechat/config.py has no SAMPLE_CREDENTIALS"
    for key, (sample, variable) in refused.items():
        assert samples[variable] == sample, key
    assert samples["AURORA_ACTION_TOKEN"] == SAMPLE_ACTION_TOKEN
    assert samples["AURORA_PROFILE"] == "development"


def test_credentials_and_endpoints_take_every_secret_from_the_environment() -> None:
    samples = dev_environment()
    wechat = raw("credentials.yml")[WECHAT]
    for key, value in wechat.items():
        match = VARIABLE.match(str(value))
        assert match, f"credentials.yml {key}: {value!r} is not ${{NAME}}"
        assert match.group(1) in samples, f"dev.env lacks {match.group(1)}"
    assert raw("endpoints.yml")["action_endpoint"]["token"] == "${AURORA_ACTION_TOKEN}"
    secrets = {v for k, v in samples.items() if k.endswith(SECRET_SUFFIXES)}
    assert len(secrets) == 6
    for name in ("credentials.yml", "credentials.dev.yml", "endpoints.yml"):
        text = (ROOT / name).read_text("utf-8")
        assert not [v for v in secrets if v in text], name


def test_make_run_serves_wechat_only_and_run_dev_adds_rest() -> None:
    production, development = raw("credentials.yml"), raw("credentials.dev.yml")
    assert set(production) == {WECHAT}
    assert set(development) == {WECHAT, "rest"}
    assert development[WECHAT] == production[WECHAT]


def served_paths(credentials: str, enable_api: bool) -> set[str]:
    """The routes of the app ``rasa run`` builds from ``credentials``."""
    Sanic.test_mode = True  # several Rasa apps of the same name in one process
    channels = create_http_input_channels(None, str(ROOT / credentials))
    app = configure_app(channels, enable_api=enable_api, auth_token="t")
    return {"/" + route.path for route in app.router.routes_all.values()}


def test_the_routes_of_make_run_are_the_webhook_and_health_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in dev_environment().items():
        monkeypatch.setenv(name, value)
    assert served_paths("credentials.yml", enable_api=False) == {
        "/",
        "/webhooks/wechat",
        "/webhooks/wechat/webhook",
        # Operators' probes: nginx proxies neither (README "Metrics and logs").
        "/webhooks/wechat/metrics",
        "/webhooks/wechat/ready",
    }
    development = served_paths("credentials.dev.yml", enable_api=True)
    assert {
        "/webhooks/rest/webhook",
        "/webhooks/wechat/webhook",
        "/conversations/<conversation_id:path>/tracker",
    } <= development


def test_without_dev_env_rasa_names_the_unset_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in dev_environment():
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RasaException, match="WECHAT_"):
        create_http_input_channels(None, str(ROOT / "credentials.yml"))


def dry_run(target: str, *variables: str) -> str:
    """The commands ``make -n target`` would run (nothing is run)."""
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", target, *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def command(text: str, program: str) -> str:
    """The one command line (continuations joined) that runs ``program``."""
    joined = text.replace("\\\n", " ")
    [line] = [line for line in joined.splitlines() if program in line]
    return line


@pytest.mark.parametrize("target", ["run", "run-dev", "shell", "actions"])
def test_every_server_listens_on_loopback(target: str) -> None:
    commands = dry_run(target)
    assert "-m actions.server" in commands
    assert "rasa run actions" not in commands
    if target != "actions":
        assert "-i 127.0.0.1" in commands


def test_make_run_has_no_http_api_and_run_dev_a_token() -> None:
    run = command(dry_run("run"), "rasa run -i")
    assert "--enable-api" not in run
    assert "--credentials credentials.yml" in run
    dev = command(dry_run("run-dev"), "rasa run -i")
    assert '--enable-api --auth-token "$RASA_API_TOKEN"' in dev
    assert "--credentials credentials.dev.yml" in dev
    exposed = command(dry_run("run", "RASA_INTERFACE=0.0.0.0"), "rasa run -i")
    assert "-i 0.0.0.0" in exposed


def test_the_production_profile_refuses_the_samples_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in dev_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AURORA_PROFILE", "production")
    with pytest.raises(RasaException, match="WECHAT_APP_SECRET"):
        create_http_input_channels(None, str(ROOT / "credentials.yml"))


def test_every_variable_of_the_config_files_has_a_default_or_sample() -> None:
    topology = env_file(ROOT / "topology.env")
    samples = dev_environment()
    # topology.env is taken in production too: where parts run, no secrets.
    assert not [name for name in topology if name.endswith(SECRET_SUFFIXES)]
    for name in ("credentials.yml", "credentials.dev.yml", "endpoints.yml"):
        lines = (ROOT / name).read_text("utf-8").splitlines()
        text = "\n".join(ln for ln in lines if not ln.lstrip().startswith("#"))
        for variable in re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", text):
            assert variable in samples, f"{name}: {variable} in no env file"
    cluster = env_file(ROOT / "cluster.env")
    assert set(cluster) - set(samples) <= {"TICKET_LOCK_LIFETIME", "AURORA_LOG_FORMAT",
                                           "AURORA_DATABASE_URL"}  # fmt: skip
