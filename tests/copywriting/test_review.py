"""Checks after drafting: an edit, and approved copy before a send."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

import pytest

from catalog.model import Catalog
from copywriting.brief import brief_for
from copywriting.checks import DraftChecker
from copywriting.review import current_copy, edit_draft
from marketing.approved_copy import with_approved_copy
from marketing.campaigns import load_campaigns
from marketing.copy_drafts import APPROVED, CopyDrafts, NewDraft
from marketing.settings import DEFAULT_CAMPAIGNS_PATH
from marketing.store import MarketingStore

TODAY = date(2026, 11, 20)
TRUE = "极光 Buds Pro 2 新品上市🎧 自适应降噪，到手 999 元，通勤路上一戴就安静～"


def stored(store: MarketingStore, catalog: Catalog, text: str) -> int:
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)["buds-pro2-launch"]
    brief = brief_for(campaign, campaign.variant("text"), catalog, TODAY)
    draft = NewDraft(
        campaign=campaign.id, variant="text", subject=brief.subject, tone=brief.tone,
        segment=None, backend="template", model="templates", text=text,
        failures=DraftChecker(catalog).check(text, brief), brief=brief.to_json(),
    )  # fmt: skip
    [draft_id] = CopyDrafts(store).add([draft])
    return draft_id


def test_an_edit_is_checked_against_the_stored_brief(
    marketing_db: MarketingStore, catalog: Catalog
) -> None:
    drafts = CopyDrafts(marketing_db)
    draft_id = stored(marketing_db, catalog, TRUE.replace("999", "899"))
    assert not drafts.get(draft_id).passes
    edited = edit_draft(drafts, DraftChecker(catalog), draft_id, f" {TRUE} ", "lin")
    assert (edited.text, edited.passes, edited.revision) == (TRUE, True, 2)
    assert drafts.approve(draft_id, "lin").status == APPROVED


def test_approved_copy_that_no_longer_holds_is_not_sent(
    marketing_db: MarketingStore, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    drafts = CopyDrafts(marketing_db)
    good = stored(marketing_db, catalog, TRUE)
    drafts.approve(good, "lin")
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)["buds-pro2-launch"]
    sent = with_approved_copy(campaign, drafts, None, current_copy(catalog, TODAY))
    assert sent.variant("text").message.text.startswith(TRUE)
    # The price changed since the approval: the same copy is stale now.
    others = [p for p in catalog.products if p.id != "au-buds-pro2"]
    buds = catalog.product("au-buds-pro2")
    assert buds is not None
    changed = replace(catalog, products=(*others, replace(buds, price=899.0)))
    with caplog.at_level(logging.WARNING):
        stale = with_approved_copy(campaign, drafts, None, current_copy(changed, TODAY))
    assert stale.variant("text") == campaign.variant("text")
    assert (
        f"Approved copy #{good} of buds-pro2-launch/text no longer matches"
        in caplog.text
    )
