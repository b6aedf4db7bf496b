"""Campaign send benchmark: throughput at the API rate, and a crash in the middle.

Against the local WeChat API stand-in (``--latency-ms`` per call):

- *throughput*: ``--recipients`` followers (4 in 5 inside the 48-hour window,
  the others get the template) sent at each ``--rates`` value; the figure is
  messages per second over the send, next to the configured rate;
- *crash and resume*: the send runs in a child process, which is killed with
  SIGKILL once about half the followers have their message; a new send resumes.
  The stand-in's records then say, per follower, how many messages arrived:
  lost (none, and not reported uncertain), duplicates (more than one), and the
  uncertain rows the crash left (killed during their API call), with how many
  of those WeChat had in fact delivered.

Usage: ``python -m benchmarks.send_bench [--recipients 2000] [--rates 100,20]
[--postgres]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from marketing.campaigns import parse_campaign
from marketing.profiles import Profile
from marketing.sending import DEFAULT_CONCURRENCY, CampaignSender
from marketing.store import MarketingStore
from tools.scratch_database import scratch_database
from tools.wechat_sim.fake_api import FakeWeChatApi, FakeWeChatApiThread
from wechat.api_client import WeChatApiClient
from wechat.storage import MemoryStore

APP_ID = "wxbench000000002"
APP_SECRET = "bench-secret"
NOW = datetime(2026, 12, 12, 12, 0)
# A send at a slow rate is cut to this many seconds of recipients.
MAX_SEND_S = 20.0
CAMPAIGN = parse_campaign(
    {
        "id": "bench",
        "url": "https://shop.example/bench",
        "variants": [
            {"name": "A", "message": {"text": "A {link}"}},
            {"name": "B", "message": {"type": "news", "title": "B"}},
        ],
        "template": {"template_id": "TM_BENCH", "data": {"first": "hi"}},
    }
)


def recipients(n: int) -> list[Profile]:
    """``n`` followers: 4 in 5 wrote an hour ago, the others days ago (consenting)."""
    return [
        Profile(
            user_id=f"bench-{i:06d}",
            last_active_at=NOW
            - (timedelta(days=3) if i % 5 == 4 else timedelta(hours=1)),
            marketing_consent=True,
        )
        for i in range(n)
    ]


@dataclass(frozen=True)
class Throughput:
    """One measured send."""

    rate: float
    n: int
    seconds: float
    sent: int

    def row(self) -> str:
        """The Markdown row: rate, recipients, sent, seconds, measured rate."""
        per_s = self.sent / self.seconds if self.seconds else 0.0
        return (
            f"| {self.rate:g}/s | {self.n} | {self.sent} | {self.seconds:.1f} "
            f"| {per_s:.1f}/s |"
        )


@dataclass(frozen=True)
class CrashReport:
    """What the stand-in received across a killed send and its resumption."""

    n: int
    before_kill: int
    lost: int
    duplicates: int
    uncertain: int
    uncertain_delivered: int
    resume_seconds: float
    # After an operator's --retry-uncertain: still missing, and sent twice.
    missing_after_retry: int
    duplicates_after_retry: int

    def rows(self) -> list[str]:
        """The Markdown rows of the report."""
        return [
            f"| recipients | {self.n} |",
            f"| delivered before the kill -9 | {self.before_kill} |",
            f"| lost | {self.lost} |",
            f"| duplicates | {self.duplicates} |",
            f"| uncertain (killed during the call) | {self.uncertain} "
            f"(delivered by WeChat: {self.uncertain_delivered}) |",
            f"| resume took | {self.resume_seconds:.1f} s |",
            f"| then --retry-uncertain: missing | {self.missing_after_retry} |",
            f"| then --retry-uncertain: duplicates | {self.duplicates_after_retry} |",
        ]


def _store(url: str) -> MarketingStore:
    return MarketingStore.from_url(url)


def _client(base_url: str) -> WeChatApiClient:
    return WeChatApiClient(APP_ID, APP_SECRET, MemoryStore(), base_url, 10)


async def _send(
    url: str, base_url: str, n: int, rate: float, retry_uncertain: bool = False
) -> tuple[float, int, list[str]]:
    store = _store(url)
    client = _client(base_url)
    try:
        sender = CampaignSender(store, client, rate_per_s=rate)
        prepared = await asyncio.to_thread(
            sender.prepare, CAMPAIGN, recipients(n), NOW, retry_uncertain
        )
        started = time.perf_counter()
        summary = await sender.execute(prepared)
        seconds = time.perf_counter() - started
        sent = sum(v for (status, _), v in summary.outcomes.items() if status == "sent")
        return seconds, sent, summary.uncertain
    finally:
        await client.close()
        store.engine.dispose()


@contextmanager
def _database(postgres: bool, folder: Path, name: str) -> Iterator[str]:
    if postgres:
        with scratch_database("send_bench") as database:
            yield f"postgresql://postgres@127.0.0.1:5432/{database}"
    else:
        yield f"sqlite:///{folder / name}.db"


def throughput(
    api: FakeWeChatApi, n: int, rate: float, postgres: bool, folder: Path
) -> Throughput:
    """Sends to ``n`` followers at ``rate`` calls per second; the measured figure."""
    with _database(postgres, folder, f"rate{rate:g}") as url:
        seconds, sent, _ = asyncio.run(_send(url, api.base_url, n, rate))
    return Throughput(rate, n, seconds, sent)


def crash_and_resume(
    api: FakeWeChatApi, n: int, rate: float, postgres: bool, folder: Path
) -> CrashReport:
    """Kills a send (SIGKILL) half way, resumes it and counts what arrived."""
    api.deliveries.clear()
    api.template_deliveries.clear()
    with _database(postgres, folder, "crash") as url:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.send_bench",
                "--child",
                url,
                api.base_url,
                str(n),
                str(rate),
            ],
        )
        deadline = time.monotonic() + n / rate * 3 + 30
        while _received(api) < n // 2 and child.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        before = _received(api)
        seconds, _, uncertain = asyncio.run(_send(url, api.base_url, n, rate))
        counts = _counts(api, n)
        asyncio.run(_send(url, api.base_url, n, rate, retry_uncertain=True))
        retried = _counts(api, n)
    unsure = set(uncertain)
    return CrashReport(
        n=n,
        before_kill=before,
        lost=sum(1 for u, c in counts.items() if c == 0 and u not in unsure),
        duplicates=sum(1 for c in counts.values() if c > 1),
        uncertain=len(unsure),
        uncertain_delivered=sum(1 for u in unsure if counts[u] == 1),
        resume_seconds=seconds,
        missing_after_retry=sum(1 for c in retried.values() if c == 0),
        duplicates_after_retry=sum(1 for c in retried.values() if c > 1),
    )


def _counts(api: FakeWeChatApi, n: int) -> dict[str, int]:
    return {p.user_id: len(api.messages_for(p.user_id)) for p in recipients(n)}


def _received(api: FakeWeChatApi) -> int:
    return len(api.deliveries) + len(api.template_deliveries)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark and prints Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument(
        "--rates", default="100,20", help="Calls per second, comma-separated."
    )
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="Stand-in latency."
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="The state table on the local PostgreSQL.",
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("URL", "API", "N", "RATE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        url, base_url, n, rate = args.child
        asyncio.run(_send(url, base_url, int(n), float(rate)))
        return 0
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    # The killed child's connections reset mid-request: expected, not news.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    server = FakeWeChatApiThread(APP_ID, APP_SECRET)
    server.api.delay_s = args.latency_ms / 1000
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            store = "PostgreSQL" if args.postgres else "SQLite"
            print(
                f"Send benchmark: stand-in latency {args.latency_ms:g} ms, "
                f"concurrency {DEFAULT_CONCURRENCY}, state table on {store}\n"
            )
            print("| rate | recipients | sent | seconds | measured |")
            print("| --- | --- | --- | --- | --- |")
            for rate in rates:
                n = min(args.recipients, max(1, int(rate * MAX_SEND_S)))
                print(
                    throughput(server.api, n, rate, args.postgres, folder).row(),
                    flush=True,
                )
            crash = crash_and_resume(
                server.api, args.recipients, max(rates), args.postgres, folder
            )
            print(f"\nCrash and resume at {max(rates):g}/s:\n")
            print("| | |\n| --- | --- |")
            print("\n".join(crash.rows()))
            return 0 if crash.lost == 0 and crash.duplicates == 0 else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
