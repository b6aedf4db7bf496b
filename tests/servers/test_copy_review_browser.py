"""The copy review (文案审核) in Debian's headless chromium over a real SQLite store.

The browser logs in through the form, follows the dashboard's link, approves
a draft that passes every check, finds the approve button of a failing draft
disabled, edits that draft until it passes and approves it, and rejects one
with a note; the store holds what the page said. Without chromium: fails under
``CI=true``, else skips.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, Page, sync_playwright

from marketing.copy_drafts import APPROVED, PENDING, REJECTED, CopyDrafts
from marketing.copy_review import StoreCopyReview
from marketing.store import MarketingStore
from servers.admin_server import make_app
from tests.marketing.copy_data import (
    MARKUP,
    PASSING,
    SeededDrafts,
    checker,
    seed_drafts,
)
from tests.servers.dashboard_data import FakeSource
from tests.services import service_unavailable
from tools.dashboard_browser import AdminServerThread, chromium_missing, launch, log_in

TOKEN = "browser-test-token"


@pytest.fixture
def seeded(marketing_db: MarketingStore) -> SeededDrafts:
    return seed_drafts(marketing_db)


@pytest.fixture
def review_url(marketing_db: MarketingStore, seeded: SeededDrafts) -> Iterator[str]:
    review = StoreCopyReview(lambda: marketing_db, checker())
    with AdminServerThread(make_app(FakeSource(), TOKEN, review=review)) as server:
        yield server.base_url


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


def test_a_marketer_reviews_drafts_on_the_page(
    review_url: str, page: Page, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    log_in(page, review_url, TOKEN)
    page.click("#copy-review-link")
    page.wait_for_selector("#filters")
    assert page.url == f"{review_url}/copy"
    drafts = CopyDrafts(marketing_db)

    passing = f"#draft-{seeded.passing}"
    assert page.get_attribute(passing, "data-passes") == "true"
    page.click(f"{passing} form.approve button")
    page.wait_for_selector("#notice")
    assert f"#{seeded.passing} 已批准" in page.inner_text("#notice")
    assert page.get_attribute(passing, "data-status") == APPROVED
    assert drafts.get(seeded.passing).status == APPROVED

    failing = f"#draft-{seeded.failing}"
    assert page.get_attribute(failing, "data-passes") == "false"
    assert page.is_disabled(f"{failing} form.approve button")
    assert "不能批准" in page.inner_text(f"{failing} form.approve")
    checks = page.locator(f"{failing} ul.failures li")
    assert [checks.nth(n).get_attribute("data-check") for n in range(2)] == [
        "ad_law",
        "facts",
    ]
    suggestion = page.inner_text(f'{failing} [data-field="suggestion"]')
    assert "全网最低" not in suggestion and "抽奖" in suggestion
    # The edit form of a failing draft is open; the saved edit is checked again.
    page.fill(f'{failing} textarea[name="text"]', PASSING)
    page.click(f"{failing} button.save")
    page.wait_for_selector("#notice")
    assert "通过全部检查，等待批准" in page.inner_text("#notice")
    assert page.get_attribute(failing, "data-status") == PENDING
    assert page.get_attribute(failing, "data-passes") == "true"
    assert page.inner_text(f'{failing} [data-field="text"]') == PASSING
    assert page.inner_text(f'{failing} [data-field="edited"]') == "已修改"
    page.click(f"{failing} form.approve button")
    page.wait_for_selector(f'{failing}[data-status="{APPROVED}"]')
    edited = drafts.get(seeded.failing)
    assert (edited.status, edited.text, edited.edited) == (APPROVED, PASSING, True)

    markup = f"#draft-{seeded.markup}"
    assert page.inner_text(f'{markup} [data-field="text"]') == MARKUP
    page.fill(f'{markup} input[name="note"]', "语气不对")
    page.click(f"{markup} form.reject button")
    page.wait_for_selector("#notice")
    assert page.get_attribute(markup, "data-status") == REJECTED
    assert page.inner_text(f'{markup} [data-field="note"]') == "语气不对"
    assert (drafts.get(seeded.markup).status, drafts.get(seeded.markup).note) == (
        REJECTED,
        "语气不对",
    )
    assert dialogs == []  # the model's <script> never ran


def test_without_login_the_review_is_refused(review_url: str, page: Page) -> None:
    page.goto(f"{review_url}/copy")
    assert page.url == f"{review_url}/login"
    api = page.goto(f"{review_url}/api/copy-drafts")
    assert api is not None and api.status == 401
