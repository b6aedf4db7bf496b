"""What metrics cost a turn: the observations of each turn and the scrapes.

- *observations*: everything the channel records for one passive AES turn (the
  request and message ids, the verify, turn, nlu and reply stages, the reply
  kind), and what the action server records per action call, in a tight loop;
- *scrape*: ``telemetry.exposition.render`` (``generate_latest`` on the real
  registry) once those turns are observed, with a realistic set of series
  (every stage, reply kind and fallback, ``--actions`` action names, a few
  WeChat error codes);
- *turn*: the cheapest real turn, a stub agent through the whole webhook over
  HTTP on loopback in AES mode (``benchmarks.webhook_bench.http``), as the
  yardstick. A turn with the trained model costs far more (NLU, policies, the
  action server), so the shares below are upper bounds; ``--turn-ms`` adds a
  row against a turn cost you measured (e.g. from ``make bench-webhook``).

A scrape is not per turn: Prometheus asks every ``--interval-s`` seconds, so its
share of a turn is its cost over the turns of one interval at ``--rate`` turns/s.

Usage: ``python -m benchmarks.metrics_bench [--turns N] [--scrapes N]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.webhook_bench import http
from telemetry import metrics
from telemetry.correlation import bind_message, bind_request, unbind
from telemetry.exposition import render

# WeChat error codes a live account meets now and then.
ERRCODES = (-1, 40001, 45015, 45047, 48001)


@dataclass(frozen=True)
class Costs:
    """The measured costs, in seconds, and the scrape's size."""

    per_turn_s: float
    per_action_s: float
    scrape_p50_s: float
    scrape_p95_s: float
    scrape_bytes: int
    series: int
    turn_s: float

    def rows(self, rate: float, interval_s: float, turn_ms: float | None) -> str:
        """A Markdown table of the costs and their shares of a turn."""
        turns_per_scrape = max(1.0, rate * interval_s)
        lines = [
            "| measurement | value |",
            "| --- | --- |",
            f"| observations of one turn (channel) | {self.per_turn_s * 1e6:.2f} µs |",
            f"| observations of one action call | {self.per_action_s * 1e6:.2f} µs |",
            f"| scrape p50 / p95 ({self.series} samples, "
            f"{self.scrape_bytes / 1024:.1f} KiB) | {self.scrape_p50_s * 1e3:.2f} / "
            f"{self.scrape_p95_s * 1e3:.2f} ms |",
            f"| stub-agent turn over HTTP, AES, p50 | {self.turn_s * 1e3:.3f} ms |",
        ]
        references = [("stub-agent turn", self.turn_s)]
        if turn_ms:
            references.append((f"{turn_ms:g} ms turn", turn_ms / 1e3))
        scrape_share = self.scrape_p50_s / turns_per_scrape
        for name, turn_s in references:
            observed = self.per_turn_s / turn_s
            scraped = scrape_share / turn_s
            lines += [
                f"| observations / {name} | {observed:.3%} |",
                f"| scrape amortised over {turns_per_scrape:g} turns "
                f"({rate:g}/s x {interval_s:g} s) / {name} | {scraped:.4%} |",
                f"| **total / {name}** | **{observed + scraped:.3%}** |",
            ]
        return "\n".join(lines)


def observe_turns(turns: int) -> float:
    """Seconds per turn of the channel's observations of a passive AES turn."""
    started = time.perf_counter()
    for i in range(turns):
        bind_request()
        verify_started = time.perf_counter()
        metrics.VERIFY.observe(time.perf_counter() - verify_started)
        bind_message(f"msg:{i}", "o_bench_user_0000000000000000")
        with metrics.timed(metrics.TURN), metrics.timed(metrics.NLU):
            pass
        metrics.count_reply(metrics.PASSIVE)
        with metrics.timed(metrics.REPLY):
            pass
    elapsed = time.perf_counter() - started
    unbind()
    return elapsed / turns


def observe_actions(calls: int, actions: int) -> float:
    """Seconds per action call of the action server's observations."""
    names = [f"action_bench_{n}" for n in range(actions)]
    started = time.perf_counter()
    for i in range(calls):
        call_started = time.perf_counter()
        name = metrics.action_label(names[i % actions])
        metrics.ACTION_SECONDS.labels(name).observe(time.perf_counter() - call_started)
    return (time.perf_counter() - started) / calls


def scrape(times: int) -> tuple[list[float], bytes]:
    """The durations of ``times`` scrapes, and the last scrape's body."""
    for errcode in ERRCODES:
        metrics.count_api_error(errcode)
    samples = []
    body = b""
    for _ in range(times):
        started = time.perf_counter()
        body = render({})
        samples.append(time.perf_counter() - started)
    return samples, body


def measure(turns: int, scrapes: int, actions: int, requests: int) -> Costs:
    """Runs every measurement."""
    per_turn = observe_turns(turns)
    per_action = observe_actions(turns, actions)
    durations, body = scrape(scrapes)
    ordered = sorted(durations)
    series = sum(
        1 for line in body.decode("utf-8").splitlines() if not line.startswith("#")
    )
    turn = asyncio.run(http(requests, 1, aes=True))
    return Costs(
        per_turn_s=per_turn,
        per_action_s=per_action,
        scrape_p50_s=statistics.median(ordered),
        scrape_p95_s=ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        scrape_bytes=len(body),
        series=series,
        turn_s=turn.p50_ms / 1e3,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measures and prints a Markdown table for BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description="The cost of metrics per turn")
    parser.add_argument("--turns", type=int, default=50_000, help="observed turns")
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--actions", type=int, default=25, help="action names seen")
    parser.add_argument("--requests", type=int, default=1000, help="stub-agent turns")
    parser.add_argument("--rate", type=float, default=30.0, help="turns per second")
    parser.add_argument(
        "--interval-s", type=float, default=15.0, help="scrape interval"
    )
    parser.add_argument("--turn-ms", type=float, help="a measured turn cost to compare")
    args = parser.parse_args(argv)
    costs = measure(args.turns, args.scrapes, args.actions, args.requests)
    print(costs.rows(args.rate, args.interval_s, args.turn_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
