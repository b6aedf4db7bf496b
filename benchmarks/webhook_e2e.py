"""End-to-end WeChat benchmark with the trained bot (``webhook_bench --model``).

The bot runs as ``make run`` runs it, in processes of its own
(``tools.bot_servers``): ``rasa run`` with the WeChat channel, a SQLite tracker
store and the activity event broker, and the action server
``python -m actions.server``. This process is only the load: ``users`` simulated
WeChat users (signed and AES-encrypted like WeChat, with its retry rule) send
``messages`` each, one at a time as people do: all users at once and back to
back, or with a think time before each message (then users arrive spread over
the first pause, as a steady stream of people chatting does), and WeChat's API
stand-in receives the answers that come later. A reply counts when the user would
see it: the passive answer, or the first customer-service message for an answer
that came later. Then the tracker store is read: one user event per message.

:func:`load_bot` is the load alone, against any running bot (a cluster behind a
proxy too); :func:`run_end_to_end` starts the single-process bot around it.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import yaml

from tools.bot_servers import running_bot
from tools.wechat_sim.fake_api import Delivery, FakeWeChatApi
from tools.wechat_sim.simulator import WeChatSimulator

TOKEN = "bench-token"
APP_ID = "wxbench000000001"
APP_SECRET = "bench-secret"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
ACCOUNT = "gh_bench"
WEBHOOK_PATH = "/webhooks/wechat/webhook"
# How long a user waits for a late answer before it counts as lost.
LOST_AFTER_S = 30.0
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

    @property
    def p95_s(self) -> float:
        """The 95th percentile of the latencies (0 without any)."""
        ordered = sorted(self.latencies_s) or [0.0]
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]

    @property
    def turns_per_s(self) -> float:
        """Messages answered per second of the run."""
        return (self.passive + self.through_api) / self.wall_s if self.wall_s else 0.0

    def markdown(self) -> str:
        """A Markdown table of the run."""
        ordered = sorted(self.latencies_s) or [0.0]
        answered = max(1, self.passive + self.through_api)
        rows = [
            ("messages sent", f"{self.sent}"),
            ("latency p50 / p95 / max", f"{statistics.median(ordered):.2f} / "
             f"{self.p95_s:.2f} / {ordered[-1]:.2f} s"),
            ("answered passively", f"{self.passive} ({self.passive / answered:.0%})"),
            ("answered through the API", f"{self.through_api} "
             f"({self.through_api / answered:.0%})"),
            ("answers later than 5 s", f"{sum(1 for s in ordered if s > 5.0)}"),
            ("lost", f"{self.lost}"),
            ("duplicated turns", f"{self.duplicated}"),
            ("user events in trackers", f"{self.user_events}"),
            ("wall time", f"{self.wall_s:.1f} s"),
            ("turns per second", f"{self.turns_per_s:.1f}"),
        ]  # fmt: skip
        return "\n".join(
            ["| metric | value |", "| --- | --- |"]
            + [f"| {k} | {v} |" for k, v in rows]
        )


@dataclass(frozen=True)
class Account:
    """The official account the simulated users write to (the bot's credentials)."""

    token: str = TOKEN
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    encoding_aes_key: str = AES_KEY
    account: str = ACCOUNT

    def credentials(self, api_base_url: str) -> dict[str, str]:
        """The channel's section of ``credentials.yml`` for this account."""
        return {
            "token": self.token,
            "app_id": self.app_id,
            "app_secret": self.app_secret,
            "encoding_aes_key": self.encoding_aes_key,
            "account": self.account,
            "api_base_url": api_base_url,
        }


class _Deliveries:
    """Counts the API messages per openid and wakes the user waiting for one."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._arrived: dict[str, asyncio.Event] = {}

    def add(self, delivery: Delivery) -> None:
        self._counts[delivery.openid] += 1
        self._event(delivery.openid).set()

    def count(self, openid: str) -> int:
        return self._counts[openid]

    async def beyond(self, openid: str, seen: int, timeout_s: float) -> bool:
        """Waits until ``openid`` has more than ``seen`` messages; False on timeout."""
        deadline = time.monotonic() + timeout_s
        event = self._event(openid)
        while self._counts[openid] <= seen:
            event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except asyncio.TimeoutError:
                return self._counts[openid] > seen
        return True

    def _event(self, openid: str) -> asyncio.Event:
        return self._arrived.setdefault(openid, asyncio.Event())


async def _user(
    sim: WeChatSimulator,
    deliveries: _Deliveries,
    openid: str,
    count: int,
    think_s: float,
    report: EndToEndReport,
) -> None:
    pause = random.Random(openid)
    for index in range(count):
        if think_s:
            # A person reads the answer and types the next message; the first
            # one comes as late, so people arrive spread, not all at once.
            await asyncio.sleep(pause.uniform(0.5 * think_s, 1.5 * think_s))
        if index == 0:
            message = sim.event(openid, "subscribe", "qrscene_bench")
        else:
            message = sim.text(openid, UTTERANCES[(index - 1) % len(UTTERANCES)])
        seen = deliveries.count(openid)
        started = time.monotonic()
        reply = await sim.send(message)
        report.sent += 1
        if reply.fields:
            report.passive += 1
            report.latencies_s.append(reply.elapsed_s)
        elif await deliveries.beyond(openid, seen, LOST_AFTER_S - reply.elapsed_s):
            report.through_api += 1
            report.latencies_s.append(time.monotonic() - started)
        else:
            report.lost += 1


def count_user_events(tracker_store_url: str, openids: Sequence[str]) -> Counter[str]:
    """How often each message id of ``openids`` is a user event in the tracker store.

    Args:
        tracker_store_url: the SQL tracker store's database (SQLAlchemy URL).
        openids: the senders to count.
    """
    wanted = set(openids)
    engine = sa.create_engine(tracker_store_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sender_id, data FROM events WHERE type_name = 'user'")
            ).all()
    finally:
        engine.dispose()
    return Counter(
        f"{sender}/{json.loads(data).get('message_id')}"
        for sender, data in rows
        if sender in wanted
    )


async def load_bot(
    base_urls: Sequence[str],
    api: FakeWeChatApi,
    tracker_store_url: str,
    users: int,
    messages: int,
    think_s: float = 0.0,
    account: Account | None = None,
) -> EndToEndReport:
    """Lets simulated users talk to a running bot; see the module docstring.

    Args:
        base_urls: the bot's Rasa servers (or the proxy in front of them); users
            are spread over them in turn.
        api: WeChat's API stand-in the bot sends to, started; its ``on_delivery``
            is replaced for the run.
        tracker_store_url: the bot's SQL tracker store, read after the run.
        users: simulated users, all at once.
        messages: messages per user (the first is a ``subscribe`` event).
        think_s: mean pause between a user's messages (0: send at once).
        account: the account the bot serves (the sample bench account by default).
    """
    account = account or Account()
    deliveries = _Deliveries()
    api.on_delivery = deliveries.add
    simulators = [
        WeChatSimulator(
            url + WEBHOOK_PATH,
            account.token,
            account.app_id,
            account.encoding_aes_key,
            account=account.account,
        )
        for url in base_urls
    ]
    openids = [f"bench-user-{i:02d}-{time.time_ns()}" for i in range(users)]
    report = EndToEndReport()
    try:
        for sim in simulators:  # the first turn of each process loads lazily
            await _user(sim, deliveries, f"warmup-{time.time_ns()}", 3, 0.0, report)
        report = EndToEndReport()
        started = time.monotonic()
        await asyncio.gather(
            *(
                _user(simulators[i % len(simulators)], deliveries, o, messages,
                      think_s, report)
                for i, o in enumerate(openids)
            )
        )  # fmt: skip
        report.wall_s = time.monotonic() - started
    finally:
        for sim in simulators:
            await sim.close()
    # The last turns are saved after their answers went out.
    await asyncio.sleep(1.0)
    counts = await asyncio.to_thread(count_user_events, tracker_store_url, openids)
    report.user_events = sum(counts.values())
    report.duplicated = sum(n - 1 for n in counts.values())
    return report


async def run_end_to_end(
    model_path: str, users: int, messages: int, think_s: float = 0.0
) -> EndToEndReport:
    """Starts the bot as ``make run`` does and loads it; see the module docstring.

    Args:
        model_path: the trained model (``.tar.gz``).
        users: simulated users, all at once.
        messages: messages per user (the first is a ``subscribe`` event).
        think_s: mean pause between a user's messages (0: send at once).
    """
    reports = await run_patterns(model_path, users, messages, [think_s])
    return reports[0]


async def run_patterns(
    model_path: str, users: int, messages: int, think_times: Sequence[float]
) -> list[EndToEndReport]:
    """:func:`run_end_to_end` for each think time in turn, on one started bot."""
    account = Account()
    api = await FakeWeChatApi(account.app_id, account.app_secret).start()
    reports = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-e2e-") as name,
            ExitStack() as stack,
        ):
            folder = Path(name)
            credentials = folder / "credentials.yml"
            section = account.credentials(api.base_url)
            credentials.write_text(
                yaml.safe_dump({"channels.wechat.WeChatInput": section}),
                encoding="utf-8",
            )
            tracker_store_url = f"sqlite:///{folder / 'trackers.db'}"
            bot = running_bot(
                folder,
                credentials,
                Path(model_path),
                name="bench-e2e",
                ready_path="/webhooks/wechat/",
                tracker_store_url=tracker_store_url,
                enable_api=False,
            )
            # Starting takes a minute; the API stand-in serves meanwhile.
            base = await asyncio.to_thread(stack.enter_context, bot)
            for think_s in think_times:
                reports.append(
                    await load_bot(
                        [base], api, tracker_store_url, users, messages, think_s,
                        account,
                    )
                )  # fmt: skip
            await asyncio.to_thread(stack.close)
    finally:
        await api.stop()
    return reports
