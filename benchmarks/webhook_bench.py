"""WeChat webhook benchmark (``make bench-webhook``).

Connector overhead, plain and AES safe mode, with a stub agent (no model):

- *codec*: signature check, (decryption,) safe parse, mapping and passive-reply
  rendering (and encryption) of one text message, in process;
- *HTTP*: the same through a real Sanic server on 127.0.0.1, client in the same
  process, ``--concurrency`` requests in flight.

With ``--model PATH`` it also runs the trained bot end to end
(``benchmarks.webhook_e2e``): simulated users x messages from this process, back
to back and at a human pace (``--think-s 0 2``), against the bot in ``make run``'s
processes and then (not with ``--skip-cluster``) in ``make run-cluster``'s
(``benchmarks.cluster_load``), with a table of both side by side.

Usage: ``python -m benchmarks.webhook_bench [--requests N] [--model models/x.tar.gz]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from benchmarks.webhook_e2e import EndToEndReport
from channels.wechat import WeChatInput
from tools.wechat_sim.fake_api import FakeWeChatApi
from tools.wechat_sim.local_server import serve_locally
from tools.wechat_sim.simulator import WeChatSimulator, to_xml
from wechat.config import WeChatSettings
from wechat.crypto import MessageCrypto
from wechat.mapping import MappingContext, to_inbound
from wechat.rendering import TextOut, passive_reply
from wechat.signature import verify_request
from wechat.storage import MemoryStore
from wechat.xml_safety import parse_xml

TOKEN = "bench-token"
APP_ID = "wxbench000000001"
APP_SECRET = "bench-secret"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


@dataclass(frozen=True)
class Timing:
    """Latency percentiles (ms) and throughput of one measured run."""

    name: str
    p50_ms: float
    p95_ms: float
    max_ms: float
    per_s: float
    n: int

    def row(self) -> str:
        """A Markdown table row."""
        return (
            f"| {self.name} | {self.p50_ms:.2f} | {self.p95_ms:.2f} | "
            f"{self.max_ms:.2f} | {self.per_s:,.0f} | {self.n} |"
        )


def summarise(name: str, samples_s: Sequence[float], wall_s: float) -> Timing:
    """Percentiles of ``samples_s`` and throughput over ``wall_s``."""
    ordered = sorted(samples_s)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return Timing(
        name=name,
        p50_ms=statistics.median(ordered) * 1000,
        p95_ms=p95 * 1000,
        max_ms=ordered[-1] * 1000,
        per_s=len(ordered) / wall_s,
        n=len(ordered),
    )


def codec(requests: int, aes: bool) -> Timing:
    """Times verify + decrypt + parse + map + render + encrypt of one message."""
    settings = WeChatSettings.from_credentials(
        {"token": TOKEN, "app_id": APP_ID, "app_secret": APP_SECRET}
    )
    crypto = MessageCrypto(TOKEN, AES_KEY, APP_ID) if aes else None
    sim = WeChatSimulator(
        "http://127.0.0.1:9/", TOKEN, APP_ID, AES_KEY if aes else None
    )
    context = MappingContext(menu=settings.menu)
    prepared = [
        sim.signed(to_xml(sim.text(f"o{i % 50}", "X5 Pro 现在多少钱？有优惠吗")))
        for i in range(requests)
    ]
    samples = []
    started = time.perf_counter()
    for query, body in prepared:
        t0 = time.perf_counter()
        verify_request(
            TOKEN, query["signature"], query["timestamp"], query["nonce"], 300
        )
        fields = parse_xml(body.encode("utf-8"), settings.max_body_bytes)
        if crypto is not None:
            plaintext = crypto.decrypt(
                fields["Encrypt"],
                query["msg_signature"],
                query["timestamp"],
                query["nonce"],
            )
            fields = parse_xml(plaintext, settings.max_body_bytes)
        inbound = to_inbound(fields, context)
        reply = passive_reply(
            TextOut(f"收到：{inbound.text}"),
            fields["FromUserName"],
            fields["ToUserName"],
        )
        if crypto is not None:
            crypto.encrypt(reply, query["nonce"], query["timestamp"])
        samples.append(time.perf_counter() - t0)
    return summarise(
        f"codec, {'AES' if aes else 'plain'}", samples, time.perf_counter() - started
    )


async def stub_agent(message: UserMessage) -> None:
    """Rasa's handler without a model: one text reply at once."""
    await message.output_channel.send_response(message.sender_id, {"text": "收到"})


async def http(requests: int, concurrency: int, aes: bool) -> Timing:
    """Times whole webhook requests through a Sanic server on loopback."""
    api = await FakeWeChatApi(APP_ID, APP_SECRET).start()
    credentials = {"token": TOKEN, "app_id": APP_ID, "app_secret": APP_SECRET}
    if aes:
        credentials["encoding_aes_key"] = AES_KEY
    credentials["api_base_url"] = api.base_url
    channel = WeChatInput(
        WeChatSettings.from_credentials(credentials), store=MemoryStore()
    )
    Sanic.test_mode = True
    app = Sanic(f"bench_{uuid.uuid4().hex}", configure_logging=False)
    app.blueprint(channel.blueprint(stub_agent), url_prefix="/webhooks/wechat")
    server = await serve_locally(app)
    sim = WeChatSimulator(
        server.url + "/webhooks/wechat/webhook", TOKEN, APP_ID, AES_KEY if aes else None
    )
    samples: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            reply = await sim.post(sim.text(f"o{i % 200}", "X5 Pro 现在多少钱？"))
            if reply.text != "收到":
                raise RuntimeError(f"unexpected reply {reply.status} {reply.body!r}")
            samples.append(reply.elapsed_s)

    await sim.post(sim.text("warmup", "hi"))
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    await sim.close()
    await server.stop()
    await api.stop()
    name = f"HTTP, {'AES' if aes else 'plain'}, {concurrency} in flight"
    return summarise(name, samples, wall)


async def overhead(requests: int, concurrency: int) -> list[Timing]:
    """Every connector-overhead measurement."""
    results = [codec(requests, aes=False), codec(requests, aes=True)]
    for aes in (False, True):
        results.append(await http(requests, 1, aes))
        results.append(await http(requests, concurrency, aes))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmark and prints Markdown tables for BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description="WeChat webhook benchmark")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument(
        "--model", help="trained model (.tar.gz) for the end-to-end part"
    )
    parser.add_argument(
        "--skip-overhead", action="store_true", help="only the end-to-end part"
    )
    parser.add_argument(
        "--skip-cluster",
        action="store_true",
        help="only the single process (the cluster needs nginx, Redis, "
        "PostgreSQL and RabbitMQ)",
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument(
        "--think-s",
        type=float,
        nargs="+",
        default=[0.0, 2.0],
        help="mean pause between a user's messages; one run each (default: 0 2)",
    )
    args = parser.parse_args(argv)
    if args.model and not Path(args.model).is_file():
        # Rasa would load an empty agent and every message would count as lost.
        parser.error(f"--model {args.model}: no such model archive")
    today = time.strftime("%Y-%m-%d")
    print(f"python {platform.python_version()}, {platform.machine()}, {today}")
    logging.getLogger("sanic.root").setLevel(logging.WARNING)
    if not args.skip_overhead:
        print("\nConnector overhead (stub agent)\n")
        print("| measurement | p50 ms | p95 ms | max ms | per s | n |")
        print("| --- | --- | --- | --- | --- | --- |")
        for timing in asyncio.run(overhead(args.requests, args.concurrency)):
            print(timing.row())
    if args.model:
        from benchmarks.webhook_e2e import run_patterns

        reports = asyncio.run(
            run_patterns(args.model, args.users, args.messages, args.think_s)
        )
        for think_s, report in zip(args.think_s, reports, strict=True):
            print(
                f"\nEnd to end with the trained bot (make run's processes): "
                f"{args.users} users x {args.messages} messages, think time "
                f"{think_s:g} s\n"
            )
            print(report.markdown())
        columns = [
            (f"single process, think {t:g} s", r)
            for t, r in zip(args.think_s, reports, strict=True)
        ]
        if not args.skip_cluster:
            from benchmarks.cluster_load import run_cluster_patterns

            clustered = asyncio.run(
                run_cluster_patterns(
                    args.model, args.users, args.messages, args.think_s
                )
            )
            columns += [
                (f"cluster, think {t:g} s", r)
                for t, r in zip(args.think_s, clustered, strict=True)
            ]
            reports += clustered
        print("\nSide by side (same users and messages, same machine)\n")
        print(side_by_side(columns))
        return 0 if all(report.ok for report in reports) else 1
    return 0


def side_by_side(columns: Sequence[tuple[str, EndToEndReport]]) -> str:
    """One Markdown table with a column per run."""

    def percentile(report: EndToEndReport, share: float) -> float:
        ordered = sorted(report.latencies_s) or [0.0]
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

    rows: dict[str, Callable[[EndToEndReport], str]] = {
        "turns per second": lambda r: f"{r.turns_per_s:.1f}",
        "p50 / p95 / max s": lambda r: (
            f"{percentile(r, 0.5):.2f} / {percentile(r, 0.95):.2f} / "
            f"{max(r.latencies_s, default=0.0):.2f}"
        ),
        "answered passively": lambda r: (
            f"{r.passive / max(1, r.passive + r.through_api):.0%}"
        ),
        "answers after 5 s": lambda r: f"{sum(1 for s in r.latencies_s if s > 5)}",
        "lost / duplicated": lambda r: f"{r.lost} / {r.duplicated}",
    }
    lines = [
        "| | " + " | ".join(name for name, _ in columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]
    for label, cell in rows.items():
        lines.append(f"| {label} | " + " | ".join(cell(r) for _, r in columns) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
