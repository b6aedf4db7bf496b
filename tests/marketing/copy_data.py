"""Copy drafts to review: real briefs, real checks, stored in a real store.

The drafts are of the 双12 reminder (``data/campaigns.yml``) with the brief
:func:`copywriting.brief.brief_for` writes from the repository's catalog, and
the failures :class:`copywriting.checks.DraftChecker` finds, as
``aurora-marketing copy`` stores them: one that passes every check, one that
fails the ad-law and fact checks, one whose model wrote markup, one approved
and one of another campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from catalog.loader import load_catalog
from catalog.model import Catalog
from copywriting.brief import CopyBrief, brief_for
from copywriting.checks import DraftChecker
from marketing.campaigns import load_campaigns
from marketing.copy_drafts import CopyDrafts, NewDraft
from marketing.settings import DEFAULT_CAMPAIGNS_PATH
from marketing.store import MarketingStore

CAMPAIGN = "double12-reminder"
OTHER_CAMPAIGN = "buds-pro2-launch"
TODAY = date(2026, 12, 10)
MODEL = "qwen2.5-1.5b-instruct-q4_k_m.gguf"
# Every number, date and name is in the brief; 30-120 characters.
PASSING = (
    "双12预约抽奖提醒：预约双12大促提醒即可参与抽奖，每天抽出 1 位幸运用户送"
    "极光 X5 Pro，活动时间11月20日至12月11日，快来预约吧！"
)
# An absolute claim (ad law) and a price the brief never gave (facts).
FAILING = (
    "全网最低价！预约双12大促提醒即可参与抽奖，X5 Pro 只要 999 元，"
    "今晚 20:00 开奖，快来预约吧！"
)
# What a model might write: markup the page must show as text.
MARKUP = (
    "<script>alert('x')</script><b>双12</b>预约抽奖提醒：预约即可参与抽奖，"
    "每天抽出 1 位幸运用户送极光 X5 Pro！"
)


@dataclass(frozen=True)
class SeededDrafts:
    """The ids of the stored drafts."""

    passing: int
    failing: int
    markup: int
    approved: int
    other: int


@cache
def catalog() -> Catalog:
    """The repository's catalog, read once."""
    return load_catalog()


def checker() -> DraftChecker:
    """The checker the CLI and the server use."""
    return DraftChecker(catalog())


def brief(campaign_id: str = CAMPAIGN, variant: int = 0) -> CopyBrief:
    """The brief of one variant of a declared campaign."""
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)[campaign_id]
    return brief_for(campaign, campaign.variants[variant], catalog(), TODAY)


def new_draft(text: str, of: CopyBrief) -> NewDraft:
    """A draft of ``text`` with the failures the checks find."""
    return NewDraft(
        campaign=of.campaign,
        variant=of.variant,
        subject=of.subject,
        tone=of.tone,
        segment=of.segment,
        backend="transformers",
        model=MODEL,
        text=text,
        failures=checker().check(text, of),
        brief=of.to_json(),
    )


def seed_drafts(store: MarketingStore) -> SeededDrafts:
    """Stores the drafts (all pending but one approved)."""
    drafts = CopyDrafts(store)
    plain, urgent = brief(variant=0), brief(variant=1)
    other = brief(OTHER_CAMPAIGN)
    ids = drafts.add(
        [
            new_draft(PASSING, plain),
            new_draft(FAILING, plain),
            new_draft(MARKUP, urgent),
            new_draft(PASSING, urgent),
            new_draft(other.title + "：" + other.facts[0], other),
        ]
    )
    seeded = SeededDrafts(*ids)
    drafts.approve(seeded.approved, "marketer")
    return seeded
