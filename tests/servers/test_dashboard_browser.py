"""The dashboard in Debian's headless chromium against a seeded store.

The funnel and the negative share per day come from a real SQLite store seeded
with known rows (:func:`tests.servers.dashboard_data.seed`); the campaign rows
and segment sizes are the fixed ones of ``dashboard_data`` (their computation is
tested where it lives). A second test builds the source as the dashboard
command does, over a store where a campaign was sent, clicked and bought. The
browser logs in through the form and reads the figures the page shows. Without
chromium: fails under ``CI=true``, else skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from marketing.campaign_sends import CampaignSends, PlannedRow
from marketing.campaigns import load_campaigns
from marketing.connection import LazyStore
from marketing.dashboard import StoreDashboard, store_dashboard
from marketing.orders import record_order
from marketing.settings import DEFAULT_CAMPAIGNS_PATH, load_settings
from marketing.store import MarketingStore
from privacy.cipher import DataCipher
from servers.admin_server import make_app
from tests.servers.dashboard_data import (
    FUNNEL,
    MIN_SCORE,
    NOW,
    SEGMENTS,
    SPIKE_DAY,
    campaign_reports,
    seed,
)
from tests.services import service_unavailable
from tools.dashboard_browser import AdminServerThread, chromium_missing, launch, log_in

TOKEN = "browser-test-token"


@pytest.fixture
def dashboard_url(tmp_path: Path, cipher: DataCipher) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'marketing.db'}"
    store = MarketingStore.from_url(url, clock=lambda: NOW, cipher=cipher)
    seed(store)
    source = StoreDashboard(
        LazyStore(url, connect=lambda u: store),
        campaign_reports=lambda s: campaign_reports(),
        segment_sizes=lambda s: dict(SEGMENTS),
        min_lead_score=MIN_SCORE,
    )
    with AdminServerThread(make_app(source, TOKEN)) as server:
        yield server.base_url
    store.engine.dispose()


@pytest.fixture
def page() -> Iterator[Page]:
    if reason := chromium_missing():
        service_unavailable(reason)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def cell(page: Page, row: str, field: str) -> str:
    return page.inner_text(f'{row} td[data-field="{field}"]').split("\n")[0].strip()


def test_the_dashboard_shows_the_seeded_numbers(dashboard_url: str, page: Page) -> None:
    log_in(page, dashboard_url, TOKEN)
    campaign = "#campaign-double12-reminder"
    total = f"{campaign} tr.total"
    urgent = f'{campaign} tr[data-variant="urgent"]'
    assert cell(page, total, "ctr").startswith("16.0%")
    assert cell(page, urgent, "ctr").startswith("20.0%")
    assert cell(page, urgent, "conversion_rate").startswith("5.0%")
    assert cell(page, total, "revenue") == "2,392.00"
    assert cell(page, urgent, "revenue") == "1,495.00"
    assert cell(page, total, "roi") == "378.4%"
    assert cell(page, f'{campaign} tr[data-variant="plain"]', "roi") == "258.8%"
    verdict = page.inner_text(f"{campaign} p.verdict")
    assert "no winner yet" in verdict and "underpowered" in verdict
    assert page.locator(f"{campaign} img.chart").count() == 2

    for name, size in SEGMENTS.items():
        assert cell(page, f'#segments tr[data-segment="{name}"]', "size") == str(size)
    for step, count in FUNNEL.items():
        assert cell(page, f'#funnel tr[data-step="{step}"]', "count") == str(count)

    alert = page.locator(f'#alerts li[data-day="{SPIKE_DAY.isoformat()}"]')
    assert alert.count() == 1
    assert "舆情预警" in alert.inner_text() and "50%" in alert.inner_text()
    spike = f'#sentiment tr[data-day="{SPIKE_DAY.isoformat()}"]'
    assert page.get_attribute(spike, "data-alert") == "true"
    assert cell(page, spike, "share") == "50.0%"
    assert cell(page, spike, "threshold") == "20.0%"
    assert page.locator('#sentiment tr[data-alert="true"]').count() == 1
    assert page.locator("img.chart").count() == 5


def test_without_login_the_page_is_refused(dashboard_url: str, page: Page) -> None:
    page.goto(f"{dashboard_url}/")
    assert page.url == f"{dashboard_url}/login"
    assert page.locator("#funnel").count() == 0
    page.fill("#token", "a guess")
    page.click("#login-submit")
    assert page.inner_text("#login-error") == "Wrong token."
    assert page.locator("#funnel").count() == 0
    api = page.goto(f"{dashboard_url}/api/funnel")
    assert api is not None and api.status == 401


@pytest.fixture
def production_store(tmp_path: Path, cipher: DataCipher) -> Iterator[MarketingStore]:
    """Four 双12 followers got the reminder; two clicked, one bought."""
    store = MarketingStore.from_url(f"sqlite:///{tmp_path / 'm.db'}", cipher=cipher)
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)["double12-reminder"]
    now = store.now()
    followers = [f"o-fan-{n}" for n in range(4)]
    sends = CampaignSends(store)
    sends.add_plan(
        campaign.id,
        [
            PlannedRow(o, campaign.variant_for(o).name, "customer_service")
            for o in followers
        ],
    )
    for n, openid in enumerate(followers):
        store.join_campaign(openid, "camp-double12-lottery")
        with store.engine.begin() as connection:
            connection.execute(
                store.table("activity").insert(),
                [{"user_id": openid, "kind": "message", "intent": "ask_price",
                  "category": "耳机", "created_at": now - timedelta(hours=2)}],
            )  # fmt: skip
        [row] = [r for r in sends.rows(campaign.id, "pending") if r.user_id == openid]
        sends.claim(row)
        sends.mark_sent(row, "customer_service", campaign.item, campaign.url)
        if n < 2:
            store.record_event(row.tracking_id, "click")
        if n == 0:
            record_order(store, "AU-1", row.tracking_id, Decimal("1299.00"), "CNY")
    yield store
    store.engine.dispose()


def test_the_production_source_shows_what_the_store_holds(
    production_store: MarketingStore, page: Page, tmp_path: Path
) -> None:
    """The dashboard as `aurora-marketing dashboard` builds it, on a seeded store."""
    url = str(production_store.engine.url)
    settings = load_settings({"AURORA_DATABASE_URL": url}, tmp_path / "none.yml")
    source = store_dashboard(
        settings, LazyStore(url, connect=lambda u: production_store)
    )
    [expected] = source.campaign_reports()[:1]
    assert expected.campaign == "double12-reminder" and expected.total.sent == 4
    with AdminServerThread(make_app(source, TOKEN)) as server:
        log_in(page, server.base_url, TOKEN)
        campaign = "#campaign-double12-reminder"
        total = f"{campaign} tr.total"
        assert cell(page, total, "sent") == "4"
        assert cell(page, total, "clicks") == "2"
        assert cell(page, total, "conversions") == "1"
        assert cell(page, total, "revenue") == "1,299.00"
        for variant in expected.variants:
            row = f'{campaign} tr[data-variant="{variant.variant}"]'
            assert cell(page, row, "sent") == str(variant.sent)
            assert cell(page, row, "clicks") == str(variant.clicks)
        for name in ("double12-signups", "earbud-fans", "active-48h"):
            assert cell(page, f'#segments tr[data-segment="{name}"]', "size") == "4"
        assert cell(page, '#segments tr[data-segment="buyers"]', "size") == "1"
