"""Segment rules, the file designers edit, and who is never a member."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.model import Catalog
from marketing.profiles import Profile
from marketing.segments import (
    Segment,
    SegmentError,
    load_segments,
    members,
    parse_duration,
    parse_segment,
)
from marketing.settings import DEFAULT_SEGMENTS_PATH

NOW = datetime(2026, 12, 10, 12, 0)
FAN = Profile(
    user_id="o_fan",
    scene="store-sz",
    intents=frozenset({"ask_price"}),
    categories=frozenset({"耳机"}),
    clicks=2,
    purchases=0,
    lead_score=0.7,
    sentiment="negative",
    last_active_at=NOW - timedelta(hours=30),
    marketing_consent=True,
    campaigns=frozenset({"camp-double12-lottery"}),
)


def segment(**rules: Any) -> Segment:
    return parse_segment({"name": "s", **rules})


@pytest.mark.parametrize(
    ("rules", "fan_matches"),
    [
        ({"categories": ["耳机", "手表"]}, True),
        ({"categories": "手机"}, False),
        ({"intents": ["ask_price"]}, True),
        ({"intents": ["complain"]}, False),
        ({"lead_score": {"min": 0.6}}, True),
        ({"lead_score": {"min": 0.6, "max": 0.69}}, False),
        ({"lead_score": {"max": 0.7}}, True),
        ({"scenes": ["store-sz", "expo"]}, True),
        ({"scenes": ["expo"]}, False),
        ({"active_within": "48h"}, True),
        ({"active_within": "1d"}, False),
        ({"inactive_for": "1d"}, True),
        ({"inactive_for": "2d"}, False),
        ({"sentiment": "negative"}, True),
        ({"sentiment": ["positive", "neutral"]}, False),
        ({"purchased": False}, True),
        ({"purchased": True}, False),
        ({"joined_campaign": "camp-double12-lottery"}, True),
        ({"joined_campaign": ["camp-referral"]}, False),
        ({"marketing_consent": True}, True),
        ({"marketing_consent": False}, False),
        ({"min_clicks": 2}, True),
        ({"min_clicks": 3}, False),
        ({"categories": ["耳机"], "purchased": True}, False),  # AND
        ({"any": [{"purchased": True}, {"min_clicks": 1}]}, True),  # OR
        ({"any": [{"purchased": True}, {"min_clicks": 5}]}, False),
        ({"intents": ["ask_price"], "any": [{"sentiment": "positive"}]}, False),
        ({}, True),
    ],
)
def test_each_rule(rules: dict[str, Any], fan_matches: bool) -> None:
    assert segment(**rules).matches(FAN, NOW) is fan_matches


def test_opted_out_and_unsubscribed_followers_are_never_members() -> None:
    everyone = segment()
    assert not everyone.matches(replace(FAN, opted_out=True), NOW)
    assert not everyone.matches(replace(FAN, subscribed=False), NOW)
    lenient = segment(any=[{"purchased": False}, {"purchased": True}])
    assert not lenient.matches(replace(FAN, opted_out=True), NOW)


def test_windows_without_activity_and_in_the_future() -> None:
    silent = replace(FAN, last_active_at=None)
    assert not segment(active_within="7d").matches(silent, NOW)
    assert segment(inactive_for="30d").matches(silent, NOW)
    edge = replace(FAN, last_active_at=NOW - timedelta(hours=48))
    assert segment(active_within="48h").matches(edge, NOW)
    assert segment(inactive_for="48h").matches(edge, NOW)
    later = replace(FAN, last_active_at=NOW + timedelta(hours=1))
    assert not segment(active_within="48h").matches(later, NOW)
    assert not segment(lead_score={"min": 0}).matches(
        replace(FAN, lead_score=None), NOW
    )


def test_purchases_and_revenue() -> None:
    buyer = replace(FAN, purchases=1, revenue=Decimal("99"))
    assert segment(purchased=True).matches(buyer, NOW)


def test_members_are_sorted_and_a_mapping_or_a_list_will_do() -> None:
    people = {
        "o_z": replace(FAN, user_id="o_z"),
        "o_b": replace(FAN, user_id="o_b"),
        "o_out": replace(FAN, user_id="o_out", opted_out=True),
        "o_cold": replace(FAN, user_id="o_cold", categories=frozenset()),
    }
    fans = segment(categories=["耳机"])
    assert [p.user_id for p in members(people, fans, NOW)] == ["o_b", "o_z"]
    assert members(list(people.values()), fans, NOW) == members(people, fans, NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("48h", timedelta(hours=48)), ("7d", timedelta(days=7)),
     ("30m", timedelta(minutes=30)), ("2w", timedelta(weeks=2)),
     (" 1.5h ", timedelta(minutes=90))],
)  # fmt: skip
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "segments.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "Bad Name"}, r"segment #1: name must be lower-case"),
        ({"name": "x", "colour": "red"}, r"segment 'x': unknown rule 'colour'"),
        ({"name": "x", "active_within": "soon"}, r"segment 'x': active_within: .*48h"),
        ({"name": "x", "active_within": 48}, r"'x': active_within"),
        ({"name": "x", "inactive_for": "0d"}, r"'x': inactive_for"),
        ({"name": "x", "sentiment": "angry"}, r"'x': sentiment: unknown \['angry'\]"),
        ({"name": "x", "lead_score": {"min": 2}}, r"'x': lead_score: min must be"),
        ({"name": "x", "lead_score": {"min": 0.8, "max": 0.5}}, r"min 0.8 is above"),
        ({"name": "x", "lead_score": 0.5}, r"'x': lead_score: expected"),
        ({"name": "x", "purchased": "yes"}, r"'x': purchased: expected true or false"),
        ({"name": "x", "categories": []}, r"'x': categories: expected a name"),
        ({"name": "x", "min_clicks": -1}, r"'x': min_clicks"),
        ({"name": "x", "tag": "很长" * 16}, r"'x': tag must be 1 to 30"),
        ({"name": "x", "any": {"purchased": True}}, r"'x': any must be a list"),
        ({"name": "x", "any": [{"bogus": 1}]}, r"'x': any #1: unknown rule 'bogus'"),
    ],
)
def test_a_bad_file_says_which_segment_and_key(
    tmp_path: Path, entry: dict[str, Any], message: str
) -> None:
    path = write(tmp_path, {"segments": [entry]})
    with pytest.raises(SegmentError, match=message) as error:
        load_segments(path)
    assert str(path) in str(error.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SegmentError, match="cannot read"):
        load_segments(tmp_path / "missing.yml")
    with pytest.raises(SegmentError, match="expected a `segments:` list"):
        load_segments(write(tmp_path, {"segment": []}))
    twice = {"segments": [{"name": "x"}, {"name": "x"}]}
    with pytest.raises(SegmentError, match="'x' is declared twice"):
        load_segments(write(tmp_path, twice))


def test_the_shipped_file(catalog: Catalog) -> None:
    segments = load_segments(DEFAULT_SEGMENTS_PATH)
    assert {"double12-signups", "earbud-fans", "hot-leads", "active-48h",
            "unhappy-recently", "buyers", "dormant-30d"} <= set(segments)  # fmt: skip
    categories = set(catalog.category_names())
    campaigns = {c.id for c in catalog.campaigns}
    for found in segments.values():
        for rules in (found.rules, *found.alternatives):
            assert rules.categories is None or rules.categories <= categories
            assert rules.campaigns is None or rules.campaigns <= campaigns
    assert segments["double12-signups"].matches(FAN, NOW)
    assert segments["earbud-fans"].matches(FAN, NOW)
    assert segments["hot-leads"].matches(FAN, NOW)
    assert segments["active-48h"].matches(FAN, NOW)
    assert segments["unhappy-recently"].matches(FAN, NOW)
    assert not segments["buyers"].matches(FAN, NOW)
    assert segments["curious-non-buyers"].matches(FAN, NOW)
    assert not segments["dormant-30d"].matches(FAN, NOW)
