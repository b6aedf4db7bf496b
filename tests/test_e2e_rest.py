"""The trained bot over HTTP, started the way ``make run`` starts it.

Marked ``e2e``: ``make test`` runs these after ``rasa train``. They start the action
server and ``rasa run`` on free loopback ports and talk to the REST channel.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 240.0

pytestmark = pytest.mark.e2e


def _free_port() -> int:
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


def _wait_until_up(url: str, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            pytest.fail(f"a server exited while starting; see {ROOT / '.runtime'}")
        if _get(url) == 200:
            return
        time.sleep(1)
    pytest.fail(f"{url} did not come up within {STARTUP_TIMEOUT_S:.0f} s")


@pytest.fixture(scope="module")
def webhook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Starts the action server and the bot; yields the REST webhook URL."""
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` first")
    rasa_port, actions_port = _free_port(), _free_port()
    endpoints = tmp_path_factory.mktemp("e2e") / "endpoints.yml"
    # In-memory tracker store: the test leaves no database behind.
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n',
        encoding="utf-8",
    )
    logs = ROOT / ".runtime"
    logs.mkdir(exist_ok=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    commands = [
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions",
         "--port", str(actions_port)],
        [str(BIN / "rasa"), "run", "--port", str(rasa_port), "--enable-api",
         "--credentials", str(ROOT / "credentials.yml"),
         "--endpoints", str(endpoints), "--model", str(ROOT / "models")],
    ]  # fmt: skip
    processes = []
    for name, command in zip(("actions", "rasa"), commands, strict=True):
        log = (logs / f"e2e-{name}.log").open("wb")
        processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{actions_port}/health", processes)
        _wait_until_up(f"http://127.0.0.1:{rasa_port}/status", processes)
        yield f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def responses() -> dict[str, list[str]]:
    domain = Domain.load(str(ROOT / "domain.yml"))
    return {name: [v["text"] for v in vs] for name, vs in domain.responses.items()}


def say(webhook: str, sender: str, message: str) -> list[str]:
    """Sends one message; returns the texts of the bot's replies."""
    body = json.dumps({"sender": sender, "message": message}).encode("utf-8")
    request = urllib.request.Request(
        webhook, data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        replies: list[dict[str, Any]] = json.loads(response.read())
    return [r.get("text", "") for r in replies]


def test_greeting_in_chinese(webhook: str, responses: dict[str, list[str]]) -> None:
    replies = say(webhook, "e2e-greet", "你好")
    assert replies and replies[0] in responses["utter_greet"]


def test_price_question_is_answered_from_the_catalog(webhook: str) -> None:
    [reply] = say(webhook, "e2e-price", "X5 Pro多少钱")
    assert reply.startswith("极光 X5 Pro 现价 ¥")


def test_lead_form_collects_and_validates_contact_details(
    webhook: str, responses: dict[str, list[str]]
) -> None:
    sender = "e2e-lead"
    assert (
        say(webhook, sender, "我想留个电话，让顾问联系我")
        == responses["utter_ask_contact_name"]
    )
    assert say(webhook, sender, "我姓王") == responses["utter_ask_phone_number"]
    assert say(webhook, sender, "138123") == (
        responses["utter_invalid_phone_number"] + responses["utter_ask_phone_number"]
    )
    [thanks] = say(webhook, sender, "13812345678")
    assert thanks.startswith("收到，王先生/女士！")


@pytest.mark.parametrize(
    "message", ["", "😀😀😀", "？？？", "嗯" * 10_000, "<xml>&amp;</xml>"]
)
def test_odd_messages_get_a_reply_not_an_error(webhook: str, message: str) -> None:
    replies = say(webhook, f"e2e-odd-{len(message)}", message)
    assert replies and all(replies)
