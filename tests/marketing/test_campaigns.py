from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from marketing.campaigns import (
    DEFAULT_VARIANT,
    NEWS,
    CampaignError,
    load_campaigns,
    parse_campaign,
)
from marketing.settings import DEFAULT_CAMPAIGNS_PATH

AB = {
    "id": "ab",
    "url": "https://shop.example/ab",
    "variants": [
        {"name": "A", "weight": 3, "message": {"text": "A {link}"}},
        {"name": "B", "weight": 1, "message": {"text": "B {link}"}},
    ],
}


def test_the_shipped_campaigns_load_and_the_double12_reminder_is_one() -> None:
    campaigns = load_campaigns(DEFAULT_CAMPAIGNS_PATH)
    reminder = campaigns["double12-reminder"]
    assert reminder.promotes == "camp-double12-lottery"
    assert reminder.is_experiment and reminder.template is not None
    assert reminder.cost == Decimal(500)
    assert campaigns["buds-pro2-launch"].variant("card").message.type == NEWS


def test_a_single_message_is_the_default_variant() -> None:
    campaign = parse_campaign(
        {"id": "one", "url": "https://x.example", "message": {"text": "hi"}}
    )
    assert [v.name for v in campaign.variants] == [DEFAULT_VARIANT]
    assert not campaign.is_experiment
    assert campaign.variant_for("o_anyone").name == DEFAULT_VARIANT
    assert campaign.item == "one"


def test_assignment_is_stable_per_follower_and_follows_the_weights() -> None:
    campaign = parse_campaign(AB)
    openids = [f"o_user_{i}" for i in range(8000)]
    first = [campaign.variant_for(o).name for o in openids]
    assert first == [parse_campaign(AB).variant_for(o).name for o in openids]
    share_a = Counter(first)["A"] / len(first)
    # 3:1 weights; 8000 draws: the binomial sd of the share is about 0.005.
    assert 0.73 < share_a < 0.77


def test_another_campaign_draws_independently() -> None:
    one, other = parse_campaign(AB), parse_campaign({**AB, "id": "ab2"})
    openids = [f"o_user_{i}" for i in range(2000)]
    same = sum(one.variant_for(o) == other.variant_for(o) for o in openids)
    # Independent 3:1 draws agree with probability .75² + .25² = .625.
    assert 0.58 < same / len(openids) < 0.67


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": "shop.example"}, "url must be"),
        ({"variants": []}, "non-empty"),
        ({"cost": -1}, "zero or more"),
        ({"cost": "lots"}, "no amount"),
        ({"currency": "yuan"}, "ISO 4217"),
        ({"id": "a b"}, "letters, digits"),
        ({"colour": "red"}, "unknown keys"),
        ({"template": {"data": {}}}, "template_id"),
    ],
)
def test_a_bad_campaign_is_refused_naming_what_to_fix(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(CampaignError, match=message):
        parse_campaign({**AB, **change})


def test_bad_variants_are_refused() -> None:
    twice = {**AB, "variants": [AB["variants"][0], AB["variants"][0]]}  # type: ignore[index]
    with pytest.raises(CampaignError, match="repeat"):
        parse_campaign(twice)
    zero = {"name": "Z", "weight": 0, "message": {"text": "z"}}
    with pytest.raises(CampaignError, match="positive"):
        parse_campaign({**AB, "variants": [zero]})
    with pytest.raises(CampaignError, match="needs a title"):
        parse_campaign({"id": "n", "url": AB["url"], "message": {"type": "news"}})


def test_an_unreadable_or_shapeless_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="cannot read"):
        load_campaigns(tmp_path / "missing.yml")
    shapeless = tmp_path / "c.yml"
    shapeless.write_text("campaigns: {}\n", encoding="utf-8")
    with pytest.raises(CampaignError, match="list"):
        load_campaigns(shapeless)
    twice = tmp_path / "twice.yml"
    twice.write_text(
        "campaigns:\n"
        "  - {id: a, url: 'https://x.example', message: {text: hi}}\n"
        "  - {id: a, url: 'https://x.example', message: {text: hi}}\n",
        encoding="utf-8",
    )
    with pytest.raises(CampaignError, match="twice"):
        load_campaigns(twice)
