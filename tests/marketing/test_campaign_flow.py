"""A campaign end to end, on the real PostgreSQL: segment, send, clicks, orders, report.

About 200 synthetic followers; the shipped ``double12-reminder`` (two variants and
a template) goes to the shipped ``double12-signups`` segment through the real
WeChat API client against the local stand-in; followers follow the tracked links
and the shop reports orders through the click server; the report must count
exactly what happened.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from marketing.campaigns import load_campaigns
from marketing.leads import Lead, seal
from marketing.profiles import build_profiles
from marketing.report import campaign_reports
from marketing.segments import load_segments, members
from marketing.sending import CampaignSender
from marketing.settings import DEFAULT_CAMPAIGNS_PATH, DEFAULT_SEGMENTS_PATH
from marketing.store import MarketingStore
from privacy.cipher import DataCipher
from servers.click_server import make_app
from tests.wechat.fakes import APP_ID, APP_SECRET
from tools.wechat_sim.fake_api import FakeWeChatApi
from wechat.api_client import WeChatApiClient
from wechat.storage import open_store

CAMPAIGN = "double12-reminder"
TOKEN = "shop-secret-for-tests"
FOLLOWERS = [f"o_flow_{i:03d}" for i in range(200)]
# Who is who (by index): signed up for 双12 (the segment), opted out, wrote
# within 48 hours, or gave a lead with consent to promotions.
SIGNED_UP = range(160)
OPTED_OUT = range(10)
ACTIVE = range(120)
CONSENTED = range(120, 140)
WINDOW = timedelta(hours=168)
LINK = re.compile(r"/t/([0-9a-f]{32})")


@dataclass
class Shop:
    """The click server as the followers and the shop see it."""

    client: TestClient

    async def click(self, tracking_id: str) -> None:
        response = await self.client.get(f"/t/{tracking_id}", allow_redirects=False)
        assert response.status == 302

    async def order(self, tracking_id: str, order_id: str, amount: Decimal) -> str:
        body = {"tracking_id": tracking_id, "order_id": order_id, "amount": str(amount)}
        headers = {"Authorization": f"Bearer {TOKEN}"}
        response = await self.client.post("/orders", json=body, headers=headers)
        assert response.status == 200
        status: str = (await response.json())["status"]
        return status


@pytest.fixture
async def shop(postgres_db: MarketingStore) -> AsyncIterator[Shop]:
    async with TestClient(TestServer(make_app(lambda: postgres_db, TOKEN))) as client:
        yield Shop(client)


@pytest.fixture
async def wechat() -> AsyncIterator[FakeWeChatApi]:
    api = FakeWeChatApi(APP_ID, APP_SECRET)
    await api.start()
    yield api
    await api.stop()


def _seed(store: MarketingStore, cipher: DataCipher) -> None:
    now = store.now()
    rows = []
    for i, openid in enumerate(FOLLOWERS):
        age = timedelta(hours=1) if i in ACTIVE else timedelta(days=5)
        rows.append(
            {
                "event_id": uuid.uuid4().hex,
                "user_id": openid,
                "kind": "message",
                "intent": "join_campaign",
                "created_at": now - age,
            }
        )
        if i in SIGNED_UP:
            store.join_campaign(openid, "camp-double12-lottery")
        if i in OPTED_OUT:
            store.opt_out(openid)
        if i in CONSENTED:
            lead = Lead(openid, "王", "13812345678", True, True, 0.5)
            store.add_lead(seal(lead, cipher, now))
    with store.engine.begin() as connection:
        connection.execute(store.table("activity").insert(), rows)


def _tracking_id(body: dict[str, Any]) -> str:
    text = str(body.get("url") or body.get("text", {}).get("content", ""))
    found = LINK.search(text)
    assert found, body
    return found.group(1)


async def test_a_campaign_from_segment_to_roi(
    postgres_db: MarketingStore,
    cipher: DataCipher,
    wechat: FakeWeChatApi,
    shop: Shop,
) -> None:
    store = postgres_db
    _seed(store, cipher)
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)[CAMPAIGN]
    segment = load_segments(DEFAULT_SEGMENTS_PATH)["double12-signups"]
    now = store.now()
    recipients = members(build_profiles(store, now), segment, now)
    # Signed up, not opted out.
    assert [p.user_id for p in recipients] == FOLLOWERS[10:160]

    client = WeChatApiClient(
        APP_ID, APP_SECRET, open_store("memory"), wechat.base_url, 5
    )
    sender = CampaignSender(
        store, client, rate_per_s=500, tracking_base_url="https://t.example"
    )
    try:
        await sender.send(campaign, recipients, now)
        # A second run (a re-run, or cron firing twice) sends nothing new.
        await sender.send(campaign, recipients, store.now())
    finally:
        await client.close()

    # Within 48 hours: a customer-service message; outside it: the template,
    # only with consent to promotions; everyone at most once.
    texts = {d.openid: d.body for d in wechat.deliveries}
    templates = {d.openid: d.body for d in wechat.template_deliveries}
    assert sorted(texts) == FOLLOWERS[10:120]
    assert sorted(templates) == FOLLOWERS[120:140]
    assert len(wechat.deliveries) == 110 and len(wechat.template_deliveries) == 20
    for openid, body in texts.items():
        variant = campaign.variant_for(openid)
        expected = variant.message.text.split("{link}")[0]
        assert body["text"]["content"].startswith(expected)  # type: ignore[index]

    # Every third recipient follows the link (some twice); every second of those
    # orders; one recipient orders without having clicked (not attributed); the
    # shop retries one order (recorded once).
    bodies = {**texts, **templates}
    variant_of = {openid: campaign.variant_for(openid).name for openid in bodies}
    sent = Counter(variant_of.values())
    clicks: Counter[str] = Counter()
    buyers: Counter[str] = Counter()
    revenue: defaultdict[str, Decimal] = defaultdict(Decimal)
    for n, openid in enumerate(sorted(bodies)):
        tracking_id = _tracking_id(bodies[openid])
        if n % 3 == 0:
            await shop.click(tracking_id)
            if n % 2 == 0:
                await shop.click(tracking_id)
            clicks[variant_of[openid]] += 1
            if n % 6 == 0:
                amount = Decimal(100 + n) + Decimal("0.50")
                assert await shop.order(tracking_id, f"AU-{n}", amount) == "ok"
                buyers[variant_of[openid]] += 1
                revenue[variant_of[openid]] += amount
        elif n == 1:
            assert await shop.order(tracking_id, "AU-unclicked", Decimal(999)) == "ok"
    first = _tracking_id(bodies[sorted(bodies)[0]])
    assert await shop.order(first, "AU-0", Decimal("100.50")) == "duplicate"

    [report] = campaign_reports(store, [campaign], store.now(), WINDOW, only=[CAMPAIGN])
    by_variant = {v.variant: v for v in report.variants}
    assert set(by_variant) == {"plain", "urgent"}
    total_sent = sum(sent.values())
    assert report.total.sent == total_sent == 130
    for name, result in by_variant.items():
        assert result.sent == sent[name]
        assert result.impressions == sent[name]
        assert result.clicks == clicks[name]
        assert result.conversions == buyers[name]
        assert result.revenue == revenue[name]
        cost = campaign.cost * sent[name] / total_sent
        assert float(result.cost) == pytest.approx(float(cost), abs=0.01)
        assert result.roi == pytest.approx(
            float((revenue[name] - cost) / cost), abs=1e-3
        )
    assert report.total.clicks == sum(clicks.values())
    assert report.total.conversions == sum(buyers.values())
    assert report.total.revenue == sum(revenue.values())
    assert report.comparison is not None
    # About 65 followers an arm: far too few to call a winner.
    assert report.comparison.winner is None
