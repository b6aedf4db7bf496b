"""Operator commands for personal data: erase one customer, purge old events.

``erase OPENID`` deletes everything the deployment holds about one WeChat user, as
the customer's own 删除我的数据 does: the marketing store (leads, interactions,
opt-outs, sign-ups) and its outbox, the conversation in Rasa's tracker store
(``endpoints.yml``), the channel's keys (de-dup, menus, rate limit) in its Redis
and the customer-service messages waiting in its retry queue. ``purge`` deletes
marketing events older than the retention period. Both print what they deleted
as JSON and exit 1 when a part failed (the rest still ran)::

    python -m tools.personal_data erase oAbC123... [--yes]
    python -m tools.personal_data purge [--days 365]

Run it from the project folder with the production environment (``AURORA_*``,
``WECHAT_*``), so it reads the same stores as the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from marketing.outbox import MarketingOutbox
from marketing.settings import Settings, data_cipher, load_settings
from marketing.store import MarketingStore, utc_now
from outbox.queue import DurableQueue
from privacy import masking

logger = logging.getLogger(__name__)

WECHAT_SECTION = "channels.wechat.WeChatInput"


def erase_marketing(settings: Settings, openid: str) -> dict[str, int]:
    """Rows of ``openid`` deleted from the marketing store and its outbox."""
    store = MarketingStore.from_url(settings.database_url, cipher=data_cipher(settings))
    try:
        counts = store.erase_user(openid)
    finally:
        store.engine.dispose()
    outbox = MarketingOutbox(DurableQueue(settings.outbox_path))
    counts["outbox"] = outbox.erase_user(openid)
    return counts


def erase_conversation(endpoints: Path, domain: Path, openid: str) -> int:
    """Tracker events (or trackers) of ``openid`` deleted from Rasa's store."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain

    from channels.tracker_erasure import erase_conversation as erase

    config = AvailableEndpoints.read_endpoints(str(endpoints)).tracker_store
    store = TrackerStore.create(config, Domain.load(str(domain)))
    return asyncio.run(erase(store, openid))


def erase_channel(credentials: Path, openid: str) -> dict[str, int]:
    """The WeChat channel's keys and queued messages of ``openid`` deleted."""
    from rasa.shared.utils.io import read_config_file

    from wechat.config import WeChatSettings
    from wechat.erasure import erase_openid
    from wechat.redis_store import RedisStore

    section = read_config_file(str(credentials)).get(WECHAT_SECTION)
    if not section:
        return {}
    settings = WeChatSettings.from_credentials(section)
    counts = {"retry_queue": DurableQueue(settings.retry_queue_path).erase_user(openid)}
    if settings.store == "memory":
        # In-process keys die with the process (and expire within minutes).
        counts["channel_keys"] = 0
        return counts

    async def erase_keys() -> int:
        # Redis itself, without the failover: a Redis that is down is an error here.
        store = RedisStore.from_url(settings.store, timeout_s=settings.store_timeout_s)
        try:
            return await erase_openid(store, settings.app_id, openid)
        finally:
            await store.close()

    counts["channel_keys"] = asyncio.run(erase_keys())
    return counts


def _part(report: dict[str, Any], name: str, work: Callable[[], object]) -> bool:
    try:
        report[name] = work()
    except Exception as e:  # the command's boundary: report the part, go on
        logger.exception("Erasing %s failed.", name)
        report[name] = {"error": f"{type(e).__name__}: {e}"}
        return False
    return True


def erase(args: argparse.Namespace) -> int:
    """Erases one customer everywhere; 0 when every part succeeded."""
    openid = args.openid
    if not args.yes and sys.stdin.isatty():
        answer = input(f"Delete everything held about {openid}? Type yes: ")
        if answer.strip().lower() != "yes":
            print("Nothing deleted.")
            return 1
    settings = load_settings()
    report: dict[str, Any] = {"openid": openid}
    parts = [
        _part(report, "marketing", lambda: erase_marketing(settings, openid)),
        _part(
            report,
            "conversation",
            lambda: erase_conversation(args.endpoints, args.domain, openid),
        ),
        _part(report, "channel", lambda: erase_channel(args.credentials, openid)),
    ]
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if all(parts) else 1


def purge(args: argparse.Namespace) -> int:
    """Deletes marketing events older than the retention period."""
    settings = load_settings()
    days = settings.retention_days if args.days is None else args.days
    cutoff = utc_now() - timedelta(days=days)
    store = MarketingStore.from_url(settings.database_url)
    try:
        counts = store.purge_before(cutoff)
    finally:
        store.engine.dispose()
    print(json.dumps({"before": cutoff.isoformat(), **counts}, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    eraser = commands.add_parser("erase", help="delete everything about one openid")
    eraser.add_argument("openid")
    eraser.add_argument("--yes", action="store_true", help="do not ask to confirm")
    eraser.add_argument("--endpoints", type=Path, default=Path("endpoints.yml"))
    eraser.add_argument("--credentials", type=Path, default=Path("credentials.yml"))
    eraser.add_argument("--domain", type=Path, default=Path("domain.yml"))
    eraser.set_defaults(run=erase)
    purger = commands.add_parser("purge", help="delete marketing events past retention")
    purger.add_argument("--days", type=int, help="retention (AURORA_RETENTION_DAYS)")
    purger.set_defaults(run=purge)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    masking.install()
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
