"""Starts the trained bot the way ``make run-dev`` does, on free loopback ports.

The action server (``python -m actions.server``, behind its token) and ``rasa run``
with the HTTP API (behind ``RASA_API_TOKEN``), a marketing store, outbox and data
key in a given folder (nothing is left in the repository), logs in ``.runtime/``.
Settings come from the environment as with ``make``: the samples of ``dev.env``
for every variable not set already. Used by the e2e tests and
``benchmarks/fault_matrix.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 240.0
DEV_ENV = ROOT / "dev.env"
TOPOLOGY_ENV = ROOT / "topology.env"
LOGS = ROOT / ".runtime"


class StartupError(RuntimeError):
    """A server exited or did not answer in time while starting."""


def env_file(path: Path) -> dict[str, str]:
    """The settings of a file like ``dev.env``: ``NAME=value`` lines, ``#`` comments."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            values[name] = value
    return values


def dev_environment(path: Path = DEV_ENV) -> dict[str, str]:
    """What ``make`` gives in development: ``dev.env``'s samples, ``topology.env``."""
    return {**env_file(TOPOLOGY_ENV), **env_file(path)}


def bot_environment() -> dict[str, str]:
    """The servers' environment: ``dev.env`` under what is set already, as ``make``."""
    return {**dev_environment(), **os.environ}


def api_url(base: str, path: str) -> str:
    """A URL of Rasa's HTTP API with the ``RASA_API_TOKEN`` the bot was started with."""
    return f"{base}{path}?{urlencode({'token': bot_environment()['RASA_API_TOKEN']})}"


def marketing_url(folder: Path) -> str:
    """The marketing store of the action server that ``running_bot(folder)`` starts."""
    return f"sqlite:///{folder / 'marketing.db'}"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status: int = response.status
            return status
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def wait_until_up(url: str, processes: list[subprocess.Popen[bytes]]) -> None:
    """Waits for ``url`` to answer 200 while every one of ``processes`` runs.

    Raises:
        StartupError: a process exited, or the URL did not answer in time.
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise StartupError(f"a server exited while starting; see {LOGS}")
        if _get(url) == 200:
            return
        time.sleep(1)
    raise StartupError(f"{url} did not come up within {STARTUP_TIMEOUT_S:.0f} s")


@contextmanager
def running_bot(
    folder: Path,
    credentials: Path,
    model: Path,
    name: str,
    ready_path: str,
    environment: Mapping[str, str] | None = None,
    actions_port: int | None = None,
    action_url: str | None = None,
    tracker_store_url: str | None = None,
    enable_api: bool = True,
) -> Iterator[str]:
    """Runs actions and Rasa until the block ends; yields Rasa's base URL.

    Args:
        folder: Where to write the endpoints file; holds the marketing store.
        credentials: The credentials file Rasa reads (its channels); ``${NAME}``
            values come from :func:`bot_environment`.
        model: A model archive or a folder of them.
        name: Prefix of the log files in ``.runtime/``.
        ready_path: A path of Rasa's that answers 200 once the bot serves (with
            the API token, see :func:`api_url`).
        environment: Variables set on top of the servers' environment.
        actions_port: The action server's port (a free one by default).
        action_url: Where Rasa calls the action server (a proxy in front of it);
            the action server itself by default.
        tracker_store_url: An SQL tracker store (SQLAlchemy URL) of the type
            ``endpoints.yml`` names; Rasa's in-memory store by default.
        enable_api: Serve Rasa's HTTP API (``--enable-api``, behind
            ``RASA_API_TOKEN``); ``make run`` does not.

    Raises:
        StartupError: A server exited or did not come up.
    """
    rasa_port, actions_port = free_port(), actions_port or free_port()
    endpoints = folder / "endpoints.yml"
    # The token as endpoints.yml has it: Rasa replaces ${AURORA_ACTION_TOKEN}.
    endpoints.write_text(
        "action_endpoint:\n"
        f'  url: "{action_url or f"http://127.0.0.1:{actions_port}/webhook"}"\n'
        "  token: ${AURORA_ACTION_TOKEN}\n"
        # Follower activity into the marketing store, as endpoints.yml has it.
        "event_broker:\n"
        "  type: channels.activity_broker.ActivityBroker\n"
        + (
            "tracker_store:\n"
            # As endpoints.yml has it: Rasa's SQL store, off the event loop.
            "  type: channels.sql_tracker_store.ThreadedSQLTrackerStore\n"
            f'  url: "{tracker_store_url}"\n'
            if tracker_store_url
            else ""
        ),
        encoding="utf-8",
    )
    LOGS.mkdir(exist_ok=True)
    env = {
        **bot_environment(),
        "RASA_TELEMETRY_ENABLED": "false",
        "AURORA_DATABASE_URL": marketing_url(folder),
        "AURORA_OUTBOX_PATH": str(folder / "marketing_outbox.db"),
        "AURORA_DATA_KEY_FILE": str(folder / "data.key"),
        **(environment or {}),
    }
    commands = {
        "actions": [str(BIN / "python"), "-m", "actions.server",
                    "--port", str(actions_port)],
        "rasa": [str(BIN / "rasa"), "run", "-i", "127.0.0.1", "--port", str(rasa_port),
                 "--credentials", str(credentials), "--endpoints", str(endpoints),
                 "--model", str(model)],
    }  # fmt: skip
    if enable_api:
        commands["rasa"] += ["--enable-api", "--auth-token", env["RASA_API_TOKEN"]]
    processes = []
    for process_name, command in commands.items():
        log = (LOGS / f"{name}-{process_name}.log").open("wb")
        processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        )
    base = f"http://127.0.0.1:{rasa_port}"
    try:
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", processes)
        wait_until_up(api_url(base, ready_path), processes)
        yield base
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
