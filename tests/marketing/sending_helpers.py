"""Campaigns, profiles and a sender wired to the WeChat API stand-in, for send tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from marketing.campaigns import Campaign, parse_campaign
from marketing.profiles import Profile
from marketing.sending import CampaignSender
from marketing.store import MarketingStore
from tests.marketing.fixtures import T0
from tests.wechat.fakes import APP_ID, APP_SECRET
from tools.wechat_sim.fake_api import FakeWeChatApi
from wechat.api_client import WeChatApiClient
from wechat.storage import MemoryStore

NOW = T0
TRACKING_BASE = "https://t.example"

AB_WITH_TEMPLATE = parse_campaign(
    {
        "id": "d12",
        "url": "https://shop.example/d12",
        "item_id": "camp-d12",
        "variants": [
            {"name": "A", "message": {"text": "A {link} TD"}},
            {
                "name": "B",
                "message": {"type": "news", "title": "B", "description": "b"},
            },
        ],
        "template": {"template_id": "TM1", "data": {"first": "hi"}},
    }
)
PLAIN = parse_campaign(
    {"id": "plain", "url": "https://shop.example/p", "message": {"text": "P {link}"}}
)


def active(user_id: str, **fields: Any) -> Profile:
    """A follower who wrote an hour ago (inside the 48-hour window)."""
    return Profile(user_id=user_id, last_active_at=NOW - timedelta(hours=1), **fields)


def dormant(user_id: str, **fields: Any) -> Profile:
    """A follower who last wrote three days ago (outside the window)."""
    return Profile(user_id=user_id, last_active_at=NOW - timedelta(days=3), **fields)


def client_for(api: FakeWeChatApi) -> WeChatApiClient:
    """The real API client, pointed at the stand-in."""
    return WeChatApiClient(APP_ID, APP_SECRET, MemoryStore(), api.base_url, 5)


def sender(store: MarketingStore, api: Any, **options: Any) -> CampaignSender:
    """A fast sender (1000 calls/s, no backoff) with tracked links."""
    options.setdefault("backoff_s", 0)
    return CampaignSender(
        store, api, rate_per_s=1000, tracking_base_url=TRACKING_BASE, **options
    )


def send_rows(
    store: MarketingStore, campaign: str = "d12"
) -> dict[str, dict[str, Any]]:
    """The campaign's rows of ``campaign_sends`` by follower."""
    table = store.table("campaign_sends")
    query = sa.select(table).where(table.c.campaign == campaign)
    with store.engine.connect() as connection:
        return {r["user_id"]: dict(r) for r in connection.execute(query).mappings()}


def impressions(store: MarketingStore) -> list[dict[str, Any]]:
    """Every impression logged, oldest first."""
    table = store.table("interactions")
    query = sa.select(table).where(table.c.event == "impression").order_by(table.c.id)
    with store.engine.connect() as connection:
        return [dict(r) for r in connection.execute(query).mappings()]


def count_rows(store: MarketingStore, name: str) -> int:
    """Rows in the table ``name``."""
    query = sa.select(sa.func.count()).select_from(store.table(name))
    with store.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def variant_of(campaign: Campaign, user_id: str) -> str:
    """The variant the campaign assigns to ``user_id``."""
    return campaign.variant_for(user_id).name
