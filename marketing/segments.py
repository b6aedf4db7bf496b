"""Segments: groups of followers that designers declare in ``data/segments.yml``.

A segment is a set of rules over a :class:`marketing.profiles.Profile`; all of
its rules must hold (AND), and when it lists ``any:`` alternatives, at least one
of them too (OR). Opted-out and unsubscribed followers are never members,
whatever the rules say. Pure: YAML in, dataclasses out; no Rasa.

.. code-block:: yaml

    segments:
      - name: earbud-fans            # a-z, 0-9 and dashes
        description: 问过耳机的粉丝
        tag: 耳机兴趣                 # the WeChat user tag (default: the name)
        categories: [耳机]            # asked about any of these categories
        intents: [ask_price]          # asked any of these intents
        lead_score: {min: 0.6, max: 1}
        scenes: [store-sz]            # subscribed through any of these QR scenes
        active_within: 48h            # wrote within (m, h, d, w)
        inactive_for: 30d             # silent for at least
        sentiment: [negative]         # the mood of their latest message
        purchased: false              # ordered (true) or never (false)
        joined_campaign: [camp-double12-lottery]  # signed up for any of these
        marketing_consent: true       # said yes to promotions
        min_clicks: 1                 # clicked a tracked link at least this often
        any:                          # at least one of these rule sets
          - intents: [ask_promotion]
          - min_clicks: 1
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from marketing.profiles import Profile
from marketing.segment_rules import (
    Rules,
    SegmentError,
    parse_duration,
    parse_rules,
)

__all__ = [
    "Rules",
    "Segment",
    "SegmentError",
    "load_segments",
    "members",
    "parse_duration",
    "parse_rules",
    "parse_segment",
]

# WeChat refuses tag names longer than this (errcode 45158).
MAX_TAG_LENGTH = 30
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_ABOUT = ("name", "description", "tag", "any")


@dataclass(frozen=True)
class Segment:
    """A named group of followers.

    Attributes:
        name: How commands and campaigns name it.
        description: What it is for, in the designer's words.
        tag: The WeChat user tag it is mirrored to (``--sync-tags``).
        rules: Conditions that must all hold.
        alternatives: When not empty, at least one of them must hold too.
    """

    name: str
    description: str = ""
    tag: str = ""
    rules: Rules = field(default_factory=Rules)
    alternatives: tuple[Rules, ...] = ()

    def matches(self, profile: Profile, now: datetime) -> bool:
        """Whether ``profile`` belongs to the segment at ``now``.

        Opted-out and unsubscribed followers never do.
        """
        if profile.opted_out or not profile.subscribed:
            return False
        if not self.rules.matches(profile, now):
            return False
        return not self.alternatives or any(
            r.matches(profile, now) for r in self.alternatives
        )


def members(
    profiles: Mapping[str, Profile] | Iterable[Profile],
    segment: Segment,
    now: datetime,
) -> list[Profile]:
    """The profiles in ``segment`` at ``now``, sorted by user id."""
    values = profiles.values() if isinstance(profiles, Mapping) else profiles
    found = [p for p in values if segment.matches(p, now)]
    return sorted(found, key=lambda p: p.user_id)


def load_segments(path: Path | str) -> dict[str, Segment]:
    """Reads the segments of a YAML file, in file order, by name.

    Raises:
        SegmentError: The file cannot be read, or a segment is unusable; the
            message names the file, the segment and the key.
    """
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise SegmentError(f"cannot read segments from {path}: {e}") from e
    entries = document.get("segments") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SegmentError(f"{path}: expected a `segments:` list")
    segments: dict[str, Segment] = {}
    for position, entry in enumerate(entries, start=1):
        segment = parse_segment(entry, str(path), position)
        if segment.name in segments:
            raise SegmentError(f"{path}: segment {segment.name!r} is declared twice")
        segments[segment.name] = segment
    return segments


def parse_segment(raw: object, source: str = "segments", position: int = 1) -> Segment:
    """One segment from its YAML mapping.

    Args:
        raw: The mapping.
        source: Where it comes from (the file), for error messages.
        position: Its position in the file, for error messages before its name.

    Raises:
        SegmentError: It is unusable; the message says where and which key.
    """
    where = f"{source}: segment #{position}"
    if not isinstance(raw, dict):
        raise SegmentError(f"{where}: expected a mapping with a name and rules")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SegmentError(
            f"{where}: name must be lower-case letters, digits and dashes, got {name!r}"
        )
    where = f"{source}: segment {name!r}"
    tag = _text(raw.get("tag", name), where, "tag")
    if not tag or len(tag) > MAX_TAG_LENGTH:
        raise SegmentError(f"{where}: tag must be 1 to {MAX_TAG_LENGTH} characters")
    alternatives = raw.get("any", [])
    if not isinstance(alternatives, list) or any(
        not isinstance(a, dict) for a in alternatives
    ):
        raise SegmentError(f"{where}: any must be a list of rule mappings")
    rules = {k: v for k, v in raw.items() if k not in _ABOUT}
    return Segment(
        name=name,
        description=_text(raw.get("description", ""), where, "description"),
        tag=tag,
        rules=parse_rules(rules, where),
        alternatives=tuple(
            parse_rules(a, f"{where}: any #{i}") for i, a in enumerate(alternatives, 1)
        ),
    )


def _text(value: object, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise SegmentError(f"{where}: {key} must be text, got {value!r}")
    return value.strip()
