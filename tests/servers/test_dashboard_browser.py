"""The dashboard in Debian's headless chromium against a seeded store.

The funnel and the negative share per day come from a real SQLite store seeded
with known rows (:func:`tests.servers.dashboard_data.seed`); the campaign rows
and segment sizes are the fixed ones of ``dashboard_data`` (their computation is
tested where it lives). The browser logs in through the form and reads the
figures the page shows. Without chromium: fails under ``CI=true``, else skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from marketing.connection import LazyStore
from marketing.dashboard import StoreDashboard
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
