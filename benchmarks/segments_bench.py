"""Profiles and segments for 100k followers on the real PostgreSQL.

Seeds synthetic followers, 10 events each (7 activity rows: a subscribe and
messages with intents, categories and sentiment; 2 interactions: an impression
and a click or another impression; 1 order, lead or further message), plus
opt-outs and campaign sign-ups, into a scratch database with ``COPY``; then
times :func:`marketing.profiles.build_profiles` and the evaluation of every
segment of ``data/segments.yml``, and reports the peak RSS of the process.
Seeding is timed apart. Prints one Markdown table row.

Usage: ``python -m benchmarks.segments_bench [--users 100000]``
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from marketing.profiles import build_profiles
from marketing.segments import load_segments, members
from marketing.settings import DEFAULT_SEGMENTS_PATH
from marketing.store import MarketingStore, utc_now
from tools.scratch_database import scratch_database

# The local PostgreSQL (trust authentication), as the tests use it.
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
EVENTS_PER_USER = 10
CHUNK_USERS = 10_000
INTENTS = (
    "ask_price",
    "ask_product_info",
    "ask_promotion",
    "purchase",
    "greet",
    "complain",
    "ask_shipping",
    "request_recommendation",
    "thank",
    "ask_store",
)
CATEGORIES = ("手机", "耳机", "手表", "平板", "笔记本", "音箱", "充电器", "配件")
SENTIMENTS = ("positive", "neutral", "neutral", "negative")
SCENES = ("store-sz", "store-bj", "expo", "wechat-ad", "package")
CAMPAIGNS = ("camp-double12-lottery", "camp-referral", "camp-new-tester")
COLUMNS = {
    "activity": "user_id, kind, intent, category, sentiment, scene, created_at",
    "interactions": "tracking_id, user_id, item_id, event, variant, campaign, "
    "created_at",
    "orders": "order_id, user_id, item_id, amount, currency, created_at",
    "leads": "ref, user_id, name, phone_encrypted, phone_masked, consent, "
    "marketing_consent, score, created_at",
    "opt_outs": "user_id, created_at",
    "campaign_signups": "user_id, campaign_id, created_at",
}


@dataclass(frozen=True)
class Result:
    """What one run measured."""

    users: int
    events: int
    seed_s: float
    profiles_s: float
    segments_s: float
    followers: int
    sizes: dict[str, int]
    rss_before_mib: float
    peak_rss_mib: float

    def markdown(self) -> str:
        """One row: users, events, seeding, build, segments, total, memory."""
        total = self.profiles_s + self.segments_s
        return (
            f"| profiles + {len(self.sizes)} segments, PostgreSQL | {self.users:,} "
            f"users × {self.events // self.users} events ({self.events:,}) | seeding "
            f"{self.seed_s:.1f} s | build_profiles {self.profiles_s:.1f} s | "
            f"segments {self.segments_s:.2f} s | **total {total:.1f} s** | peak RSS "
            f"{self.peak_rss_mib:.0f} MiB (before {self.rss_before_mib:.0f} MiB) |"
        )


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _rows(users: range, now: datetime, rng: random.Random) -> Iterator[tuple[str, str]]:
    """``(table, tab-separated line)`` for the events of ``users``."""

    def at() -> str:
        return (now - timedelta(minutes=rng.randrange(60 * 24 * 60))).isoformat()

    for n in users:
        user = f"o_bench{n:08d}"
        scene = rng.choice(SCENES) if rng.random() < 0.4 else r"\N"
        yield "activity", f"{user}\tsubscribe\t\\N\t\\N\t\\N\t{scene}\t{at()}"
        extra = rng.random()
        messages = 6 + (extra >= 0.4)
        for _ in range(messages):
            category = rng.choice(CATEGORIES) if rng.random() < 0.6 else r"\N"
            intent, sentiment = rng.choice(INTENTS), rng.choice(SENTIMENTS)
            yield (
                "activity",
                (f"{user}\tmessage\t{intent}\t{category}\t{sentiment}\t\\N\t{at()}"),
            )
        for k in range(2):
            event = "click" if k and rng.random() < 0.5 else "impression"
            tracking = f"t{n:08d}{k}"
            yield (
                "interactions",
                (
                    f"{tracking}\t{user}\tau-buds-pro2\t{event}\tA\tbuds-pro2-launch\t{at()}"
                ),
            )
        if extra < 0.2:
            amount = rng.choice(("199.00", "899.00", "4999.00"))
            yield "orders", f"o{n}\t{user}\tau-buds-pro2\t{amount}\tCNY\t{at()}"
        elif extra < 0.4:
            score = round(rng.random(), 3)
            consent = "t" if rng.random() < 0.5 else "f"
            yield (
                "leads",
                (
                    f"r{n}\t{user}\t张\tsealed\t138****0000\tt\t{consent}\t"
                    f"{score}\t{at()}"
                ),
            )
        if rng.random() < 0.02:
            yield "opt_outs", f"{user}\t{at()}"
        if rng.random() < 0.1:
            yield "campaign_signups", f"{user}\t{rng.choice(CAMPAIGNS)}\t{at()}"


def seed(store: MarketingStore, users: int, now: datetime, rng: random.Random) -> int:
    """Loads the synthetic followers with COPY, chunk by chunk; the event count."""
    events = 0
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for start in range(0, users, CHUNK_USERS):
            buffers = {name: io.StringIO() for name in COLUMNS}
            for table, line in _rows(
                range(start, min(users, start + CHUNK_USERS)), now, rng
            ):
                buffers[table].write(line + "\n")
                events += table not in ("opt_outs", "campaign_signups")
            for table, buffer in buffers.items():
                buffer.seek(0)
                cursor.copy_expert(
                    f"COPY {table} ({COLUMNS[table]}) FROM STDIN", buffer
                )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return events


def run(users: int, rng_seed: int = 1) -> Result:
    """Seeds a scratch database, then builds profiles and segments once."""
    now = utc_now()
    segments = load_segments(DEFAULT_SEGMENTS_PATH)
    with scratch_database("segbench") as name:
        store = MarketingStore.from_url(f"{POSTGRES}/{name}")
        try:
            started = time.perf_counter()
            events = seed(store, users, now, random.Random(rng_seed))
            seeded = time.perf_counter()
            rss_before = _rss_mib()
            profiles = build_profiles(store, now)
            built = time.perf_counter()
            sizes = {s.name: len(members(profiles, s, now)) for s in segments.values()}
            done = time.perf_counter()
        finally:
            store.engine.dispose()
    return Result(
        users=users,
        events=events,
        seed_s=seeded - started,
        profiles_s=built - seeded,
        segments_s=done - built,
        followers=len(profiles),
        sizes=sizes,
        rss_before_mib=rss_before,
        peak_rss_mib=_rss_mib(),
    )


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints its row and the segment sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        result = run(args.users, args.seed)
    except sa.exc.OperationalError as e:
        print(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {e}", file=sys.stderr)
        return 1
    print(result.markdown())
    print(f"followers: {result.followers:,}; segment sizes: {result.sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
