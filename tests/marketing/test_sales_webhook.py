"""Good leads reach sales: owed once, posted signed and masked, retried, given up.

The sales CRM is a local aiohttp server on 127.0.0.1 that fails first and then
accepts; "down" is a port where nothing listens.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from marketing.lead_notifications import FAILED, PENDING, SENT, LeadNotifications
from marketing.leads import Lead, SealedLead, seal
from marketing.outbox import Kept, MarketingOutbox, Write, keep
from marketing.sales_webhook import SalesNotifier, SalesWebhook, lead_hook
from marketing.settings import Settings, SettingsError
from marketing.signing import SIGNATURE_HEADER, sign_body
from marketing.store import MarketingStore
from outbox.queue import DurableQueue
from privacy.cipher import DataCipher
from tests.marketing.fixtures import T0, TEST_DATA_KEY, broken_store

NUMBER = "13812345678"
SECRET = "sales-secret"
NOW = 1_800_000_000.0


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> MarketingStore:
    name = "marketing_db" if request.param == "sqlite" else "postgres_db"
    result: MarketingStore = request.getfixturevalue(name)
    return result


def sealed(cipher: DataCipher, ref: str = "r1", score: float = 0.8) -> SealedLead:
    lead = Lead("u1", "王先生", NUMBER, True, True, score, "double12", T0, T0, ref=ref)
    return seal(lead, cipher, T0)


@dataclass
class Crm:
    """The sales team's endpoint: refuses the first ``failures`` posts."""

    failures: int = 1
    received: list[tuple[bytes, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((body, request.headers.get(SIGNATURE_HEADER, "")))
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=503, text="busy")
        return web.json_response({"ok": True})


@pytest.fixture
async def crm() -> AsyncIterator[tuple[Crm, str]]:
    fake = Crm()
    app = web.Application()
    app.router.add_post("/leads", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("/leads"))
    await server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def notifier(
    store: MarketingStore, url: str, clock: Clock, max_attempts: int = 3
) -> SalesNotifier:
    webhook = SalesWebhook(url, SECRET, timeout_s=5, clock=lambda: NOW)
    return SalesNotifier(
        lambda: store, webhook, max_attempts=max_attempts, base_delay_s=60,
        max_delay_s=300, clock=clock,
    )  # fmt: skip


def test_a_lead_is_owed_once(store: MarketingStore, cipher: DataCipher) -> None:
    notes = LeadNotifications(store)
    assert notes.enqueue(sealed(cipher)) is True
    assert notes.enqueue(sealed(cipher)) is False
    assert notes.counts() == {PENDING: 1}


def test_the_hook_owes_leads_at_the_threshold_only_with_a_url(
    store: MarketingStore, cipher: DataCipher
) -> None:
    assert lead_hook(Settings(data_key=TEST_DATA_KEY)) is None
    settings = Settings(
        data_key=TEST_DATA_KEY,
        sales_webhook_url="http://127.0.0.1:1/leads",
        sales_webhook_secret=SECRET,
        sales_webhook_min_score=0.6,
    )
    hook = lead_hook(settings)
    assert hook is not None
    hook(store, sealed(cipher, "low", 0.59))
    hook(store, sealed(cipher, "edge", 0.6))
    notes = LeadNotifications(store)
    assert (notes.status("low"), notes.status("edge")) == (None, PENDING)


def test_a_url_without_a_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="sales_webhook_secret"):
        Settings(data_key=TEST_DATA_KEY, sales_webhook_url="http://x/leads")


def test_leads_stored_now_or_replayed_later_are_both_owed(
    store: MarketingStore, cipher: DataCipher, tmp_path: Path
) -> None:
    hook = lead_hook(
        Settings(
            data_key=TEST_DATA_KEY,
            sales_webhook_url="http://127.0.0.1:1/leads",
            sales_webhook_secret=SECRET,
        )
    )
    outbox = MarketingOutbox(
        DurableQueue(tmp_path / "o.db"), retry_after_s=0, on_lead=hook
    )
    now, later = Write.lead(sealed(cipher, "now")), Write.lead(sealed(cipher, "later"))
    assert keep(now, lambda: store, outbox) is Kept.STORED
    assert keep(later, broken_store, outbox) is Kept.QUEUED
    assert LeadNotifications(store).status("later") is None
    assert outbox.replay(store) == 1
    notes = LeadNotifications(store)
    assert (notes.status("now"), notes.status("later")) == (PENDING, PENDING)
    # A replay of a lead stored before owes it no second time.
    Write.lead(sealed(cipher, "now")).apply(store, hook)
    assert notes.counts() == {PENDING: 2}


async def test_a_failed_post_is_retried_with_backoff_then_sent(
    store: MarketingStore, cipher: DataCipher, crm: tuple[Crm, str]
) -> None:
    fake, url = crm
    store.add_lead(sealed(cipher))
    clock = Clock()
    LeadNotifications(store, clock).enqueue(sealed(cipher))
    sender = notifier(store, url, clock)
    first = await asyncio.to_thread(sender.run_once)
    assert (first.sent, first.retried, first.failed) == (0, 1, 0)
    # Not due before its backoff (60 s after the first failure).
    clock.now = T0 + timedelta(seconds=59)
    assert (await asyncio.to_thread(sender.run_once)).retried == 0
    assert len(fake.received) == 1
    clock.now = T0 + timedelta(seconds=61)
    assert (await asyncio.to_thread(sender.run_once)).sent == 1
    assert LeadNotifications(store).status("r1") == SENT
    body, signature = fake.received[-1]
    assert signature == sign_body(SECRET, body)
    assert json.loads(body) == {
        "event": "lead",
        "timestamp": int(NOW),
        "lead": {
            "ref": "r1",
            "name": "王先生",
            "phone_masked": "138****5678",
            "score": 0.8,
            "campaign": "double12",
            "created_at": "2026-11-22T10:00:00",
        },
    }
    assert NUMBER.encode() not in body
    # Sent is sent: the next run posts nothing.
    assert (await asyncio.to_thread(sender.run_once)).sent == 0
    assert len(fake.received) == 2


async def test_a_crm_that_stays_down_is_given_up_after_max_attempts(
    store: MarketingStore, cipher: DataCipher, caplog: pytest.LogCaptureFixture
) -> None:
    store.add_lead(sealed(cipher))
    clock = Clock()
    notes = LeadNotifications(store, clock)
    notes.enqueue(sealed(cipher))
    sender = notifier(store, f"http://127.0.0.1:{free_port()}/leads", clock)
    outcomes = []
    for _ in range(3):
        report = await asyncio.to_thread(sender.run_once)
        outcomes.append((report.retried, report.failed))
        clock.now += timedelta(hours=1)
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    assert notes.status("r1") == FAILED
    with store.engine.connect() as connection:
        table = store.table("lead_notifications")
        row = connection.execute(table.select()).mappings().one()
    assert row["attempts"] == 3
    assert "unreachable" in row["last_error"]
    assert "given up" in caplog.text


def test_backoff_doubles_up_to_the_cap(marketing_db: MarketingStore) -> None:
    sender = notifier(marketing_db, "http://127.0.0.1:1/", Clock())
    assert [sender.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [
        60, 120, 240, 300,
    ]  # fmt: skip


def test_a_claimed_notification_is_not_posted_twice(
    store: MarketingStore, cipher: DataCipher
) -> None:
    notes = LeadNotifications(store)
    notes.enqueue(sealed(cipher))
    [due] = notes.due(10)
    assert notes.claim(due, timedelta(seconds=20)) is True
    assert notes.claim(due, timedelta(seconds=20)) is False
    assert notes.due(10) == []


def test_an_erased_customer_owes_sales_nothing(
    store: MarketingStore, cipher: DataCipher
) -> None:
    store.add_lead(sealed(cipher))
    LeadNotifications(store).enqueue(sealed(cipher))
    assert store.erase_user("u1")["lead_notifications"] == 1
