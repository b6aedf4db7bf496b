"""End-to-end WeChat benchmark with the trained bot (``webhook_bench --model``).

Starts the action server, loads the model into a Rasa agent served with the WeChat
channel on 127.0.0.1, and lets ``users`` simulated WeChat users send ``messages``
each (one at a time, as people do; all users at once). A reply counts when the user
would see it: the passive answer, or the first customer-service message for an
answer that came later. Then every tracker is checked: one user event per message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sanic import Sanic

from channels.wechat import WeChatInput
from tools.wechat_sim.fake_api import FakeWeChatApi
from tools.wechat_sim.local_server import serve_locally
from tools.wechat_sim.simulator import WeChatSimulator
from wechat.config import WeChatSettings
from wechat.storage import MemoryStore

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
APP_ID = "wxbench000000001"
APP_SECRET = "bench-secret"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
# How long a user waits for a late answer before it counts as lost.
LOST_AFTER_S = 30.0
# The event broker endpoints.yml configures (make run records follower activity).
ACTIVITY_BROKER = "channels.activity_broker.ActivityBroker"
UTTERANCES = (
    "X5 Pro多少钱",
    "最近有什么优惠活动",
    "推荐一款3000以内拍照好的手机",
    "有哪些降噪耳机",
    "上海有门店吗",
    "下单后多久发货",
    "怎么申请退货",
    "手表续航怎么样",
    "谢谢",
)


@dataclass
class EndToEndReport:
    """What the simulated users saw, and what the trackers hold."""

    latencies_s: list[float] = field(default_factory=list)
    passive: int = 0
    through_api: int = 0
    lost: int = 0
    duplicated: int = 0
    sent: int = 0
    user_events: int = 0
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Nothing lost or duplicated, every answer within WeChat's 5 s."""
        late = sum(1 for s in self.latencies_s if s > 5.0)
        return not (self.lost or self.duplicated or late)

    def markdown(self) -> str:
        """A Markdown table of the run."""
        ordered = sorted(self.latencies_s) or [0.0]
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        answered = max(1, self.passive + self.through_api)
        rows = [
            ("messages sent", f"{self.sent}"),
            ("latency p50 / p95 / max", f"{statistics.median(ordered):.2f} / "
             f"{p95:.2f} / {ordered[-1]:.2f} s"),
            ("answered passively", f"{self.passive} ({self.passive / answered:.0%})"),
            ("answered through the API", f"{self.through_api} "
             f"({self.through_api / answered:.0%})"),
            ("answers later than 5 s", f"{sum(1 for s in ordered if s > 5.0)}"),
            ("lost", f"{self.lost}"),
            ("duplicated turns", f"{self.duplicated}"),
            ("user events in trackers", f"{self.user_events}"),
            ("wall time", f"{self.wall_s:.1f} s"),
        ]  # fmt: skip
        return "\n".join(
            ["| metric | value |", "| --- | --- |"]
            + [f"| {k} | {v} |" for k, v in rows]
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_actions(port: int) -> subprocess.Popen[bytes]:
    rasa = Path(sys.executable).parent / "rasa"
    log = (ROOT / ".runtime").resolve()
    log.mkdir(exist_ok=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    command = [str(rasa), "run", "actions", "--actions", "actions", "--port", str(port)]
    output = (log / "bench-actions.log").open("wb")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)


def _wait_for(url: str, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} did not come up within {timeout_s:.0f} s")


async def _user(
    sim: WeChatSimulator,
    api: FakeWeChatApi,
    openid: str,
    count: int,
    think_s: float,
    report: EndToEndReport,
) -> None:
    pause = random.Random(openid)
    for index in range(count):
        if index and think_s:
            # A person reads the answer and types the next message.
            await asyncio.sleep(pause.uniform(0.5 * think_s, 1.5 * think_s))
        if index == 0:
            message = sim.event(openid, "subscribe", "qrscene_bench")
        else:
            message = sim.text(openid, UTTERANCES[(index - 1) % len(UTTERANCES)])
        seen = len(api.texts_for(openid))
        started = time.monotonic()
        reply = await sim.send(message)
        report.sent += 1
        if reply.fields:
            report.passive += 1
            report.latencies_s.append(reply.elapsed_s)
            continue
        while time.monotonic() - started < LOST_AFTER_S:
            if len(api.texts_for(openid)) > seen:
                report.through_api += 1
                report.latencies_s.append(time.monotonic() - started)
                break
            await asyncio.sleep(0.02)
        else:
            report.lost += 1


async def _count_user_events(
    agent: Any, openids: list[str], report: EndToEndReport
) -> None:
    for openid in openids:
        tracker = await agent.tracker_store.retrieve(openid)
        ids = [e.message_id for e in tracker.events if e.type_name == "user"]
        report.user_events += len(ids)
        report.duplicated += len(ids) - len(set(ids))


def _quiet() -> None:
    """Keeps Rasa's and Sanic's logs out of the report."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    for name in ("rasa", "sanic.root", "sanic.error", "channels"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def run_end_to_end(
    model_path: str, users: int, messages: int, think_s: float = 0.0
) -> EndToEndReport:
    """Runs the end-to-end benchmark; see the module docstring.

    Args:
        model_path: the trained model (``.tar.gz``).
        users: simulated users, all at once.
        messages: messages per user (the first is a ``subscribe`` event).
        think_s: mean pause between a user's messages (0: send at once).
    """
    _quiet()
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import register
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    actions_port = _free_port()
    actions = _start_actions(actions_port)
    api = await FakeWeChatApi(APP_ID, APP_SECRET).start()
    report = EndToEndReport()
    try:
        _wait_for(f"http://127.0.0.1:{actions_port}/health")
        endpoints = AvailableEndpoints(
            action=EndpointConfig(url=f"http://127.0.0.1:{actions_port}/webhook"),
            # As endpoints.yml has it: follower activity into the marketing
            # store the action server uses too (AURORA_DATABASE_URL).
            event_broker=EndpointConfig(type=ACTIVITY_BROKER),
        )
        agent = await load_agent(model_path=model_path, endpoints=endpoints)
        settings = WeChatSettings.from_credentials(
            {
                "token": TOKEN,
                "app_id": APP_ID,
                "app_secret": APP_SECRET,
                "encoding_aes_key": AES_KEY,
                "api_base_url": api.base_url,
            }
        )
        channel = WeChatInput(settings, store=MemoryStore())
        Sanic.test_mode = True
        app = Sanic(f"bench_e2e_{uuid.uuid4().hex}", configure_logging=False)
        app.ctx.agent = agent
        register([channel], app, route="/webhooks/")
        server = await serve_locally(app)
        sim = WeChatSimulator(
            server.url + "/webhooks/wechat/webhook", TOKEN, APP_ID, AES_KEY
        )
        openids = [f"bench-user-{i:02d}" for i in range(users)]
        await sim.send(sim.text("warmup", "你好"))
        started = time.monotonic()
        await asyncio.gather(
            *(_user(sim, api, o, messages, think_s, report) for o in openids)
        )
        report.wall_s = time.monotonic() - started
        await channel.runner.drain()
        await _count_user_events(agent, openids, report)
        await sim.close()
        await server.stop()
    finally:
        await api.stop()
        actions.terminate()
        actions.wait(timeout=30)
    return report
