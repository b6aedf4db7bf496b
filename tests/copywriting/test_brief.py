"""Briefs built from the real catalog and campaigns files."""

from __future__ import annotations

from datetime import date

import pytest

from catalog.model import Catalog
from copywriting.brief import BriefError, CopyBrief, brief_for, tone_for_segment
from marketing.campaigns import load_campaigns, parse_campaign
from marketing.segments import Segment, load_segments
from marketing.settings import DEFAULT_CAMPAIGNS_PATH, DEFAULT_SEGMENTS_PATH

TODAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def segments() -> dict[str, Segment]:
    return load_segments(DEFAULT_SEGMENTS_PATH)


def test_a_product_campaign_brief_has_price_offer_dates_and_the_variants_angle(
    catalog: Catalog,
) -> None:
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)["buds-pro2-launch"]
    brief = brief_for(campaign, campaign.variant("text"), catalog, TODAY)
    assert (brief.kind, brief.subject, brief.title) == (
        "product",
        "au-buds-pro2",
        "极光 Buds Pro 2",
    )
    assert "价格：999 元（原价 1199 元）" in brief.facts
    assert any(
        f.startswith("优惠：耳机第二件半价") and "11月15日至11月30日" in f
        for f in brief.facts
    )
    angle = brief.facts[-1]
    assert angle.startswith("本条要点：极光 Buds Pro 2 新品上市")
    assert "{link}" not in angle and "TD" not in angle and "👉" not in angle
    assert brief.request().item_id == "au-buds-pro2"
    assert brief.request().campaign == "buds-pro2-launch"


def test_a_campaign_promoting_a_catalog_campaign_has_its_reward_and_period(
    catalog: Catalog, segments: dict[str, Segment]
) -> None:
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)["double12-reminder"]
    variant = campaign.variant("urgent")
    brief = brief_for(campaign, variant, catalog, TODAY, segments["unhappy-recently"])
    assert (brief.kind, brief.subject) == ("campaign", "camp-double12-lottery")
    assert "活动时间：11月20日至12月11日" in brief.facts
    assert any(f.startswith("奖励：每日 1 台极光 X5 Pro") for f in brief.facts)
    assert (brief.tone, brief.segment) == ("温和", "unhappy-recently")


def test_a_news_variant_gives_its_title_and_description_as_the_angle(
    catalog: Catalog,
) -> None:
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)["buds-pro2-launch"]
    brief = brief_for(campaign, campaign.variant("card"), catalog, TODAY)
    assert (
        brief.facts[-1] == "本条要点：极光 Buds Pro 2 新品上市："
        "自适应降噪、40 小时续航，首发享 12 期免息"
    )


def test_a_campaign_about_nothing_in_the_catalog_has_only_its_message(
    catalog: Catalog,
) -> None:
    campaign = parse_campaign(
        {
            "id": "hello",
            "title": "问候",
            "url": "https://x.cn",
            "message": {"text": "冬至快乐 {link}"},
        }
    )
    brief = brief_for(campaign, campaign.variants[0], catalog, TODAY)
    assert (brief.kind, brief.subject, brief.facts) == (
        "campaign",
        "hello",
        ("本条要点：冬至快乐",),
    )


def test_tone_follows_the_segment(segments: dict[str, Segment]) -> None:
    assert tone_for_segment(None) == "亲切"
    assert tone_for_segment(segments["unhappy-recently"]) == "温和"
    assert tone_for_segment(segments["hot-leads"]) == "热情"
    assert tone_for_segment(segments["double12-signups"]) == "热情"
    assert tone_for_segment(segments["dormant-30d"]) == "亲切"


def test_a_brief_survives_its_stored_form(catalog: Catalog) -> None:
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)["buds-pro2-launch"]
    brief = brief_for(campaign, campaign.variants[0], catalog, TODAY)
    assert CopyBrief.from_json(brief.to_json()) == brief
    with pytest.raises(BriefError):
        CopyBrief.from_json('{"campaign": "x"}')
    with pytest.raises(BriefError):
        CopyBrief.from_json("not json")
