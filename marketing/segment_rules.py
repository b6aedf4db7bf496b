"""The rules of a segment (:mod:`marketing.segments`) and how YAML declares them.

Each rule is a condition on a :class:`marketing.profiles.Profile`; a
:class:`Rules` holds those a segment (or one of its ``any:`` alternatives)
declares, and :meth:`Rules.matches` is true when all of them hold. Pure; no Rasa.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marketing.profiles import Profile
from nlu.constants import SENTIMENT_LABELS

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class SegmentError(ValueError):
    """The segments file is unreadable or declares something unusable."""


@dataclass(frozen=True)
class Rules:
    """Conditions on a profile that must all hold; ``None``: no condition."""

    categories: frozenset[str] | None = None
    intents: frozenset[str] | None = None
    lead_score_min: float | None = None
    lead_score_max: float | None = None
    scenes: frozenset[str] | None = None
    active_within: timedelta | None = None
    inactive_for: timedelta | None = None
    sentiments: frozenset[str] | None = None
    purchased: bool | None = None
    campaigns: frozenset[str] | None = None
    marketing_consent: bool | None = None
    min_clicks: int | None = None

    def matches(self, profile: Profile, now: datetime) -> bool:
        """Whether ``profile`` meets every condition at ``now``."""
        return all(check(self, profile, now) for check in _CHECKS)


def _any_of(wanted: frozenset[str] | None, have: Iterable[str | None]) -> bool:
    return wanted is None or not wanted.isdisjoint(h for h in have if h is not None)


def _score(rules: Rules, profile: Profile, now: datetime) -> bool:
    if rules.lead_score_min is None and rules.lead_score_max is None:
        return True
    score = profile.lead_score
    if score is None:
        return False
    low, high = rules.lead_score_min, rules.lead_score_max
    return (low is None or score >= low) and (high is None or score <= high)


def _activity(rules: Rules, profile: Profile, now: datetime) -> bool:
    last = profile.last_active_at
    if rules.active_within is not None and (
        last is None or not now - rules.active_within <= last <= now
    ):
        return False
    # Never seen writing counts as silent for any time.
    return (
        rules.inactive_for is None or last is None or last <= now - rules.inactive_for
    )


def _flags(rules: Rules, profile: Profile, now: datetime) -> bool:
    return (
        (rules.purchased is None or (profile.purchases > 0) == rules.purchased)
        and (
            rules.marketing_consent is None
            or profile.marketing_consent == rules.marketing_consent
        )
        and (rules.min_clicks is None or profile.clicks >= rules.min_clicks)
    )


_Check = Callable[[Rules, Profile, datetime], bool]
_CHECKS: tuple[_Check, ...] = (
    lambda r, p, now: _any_of(r.categories, p.categories),
    lambda r, p, now: _any_of(r.intents, p.intents),
    lambda r, p, now: _any_of(r.scenes, [p.scene]),
    lambda r, p, now: _any_of(r.sentiments, [p.sentiment]),
    lambda r, p, now: _any_of(r.campaigns, p.campaigns),
    _score,
    _activity,
    _flags,
)


def parse_rules(raw: Mapping[str, Any], where: str) -> Rules:
    """The rules of a mapping (the keys of the module's example).

    Raises:
        SegmentError: A key is unknown or its value unusable.
    """
    values: dict[str, Any] = {}
    for key, value in raw.items():
        parse = _PARSERS.get(str(key))
        if parse is None:
            known = ", ".join(sorted(_PARSERS))
            raise SegmentError(f"{where}: unknown rule {key!r} (known: {known})")
        values.update(parse(value, f"{where}: {key}"))
    low, high = values.get("lead_score_min"), values.get("lead_score_max")
    if low is not None and high is not None and low > high:
        raise SegmentError(f"{where}: lead_score: min {low} is above max {high}")
    return Rules(**values)


def parse_duration(value: object, where: str = "duration") -> timedelta:
    """``48h``, ``7d``, ``30m``, ``2w`` as a timedelta.

    Raises:
        SegmentError: Not such a duration.
    """
    found = _DURATION.match(str(value)) if isinstance(value, str) else None
    if found is None or float(found.group(1)) <= 0:
        raise SegmentError(
            f"{where}: expected a positive duration such as 48h or 7d, got {value!r}"
        )
    return timedelta(**{_UNITS[found.group(2)]: float(found.group(1))})


def _names(field: str, allowed: tuple[str, ...] = ()) -> Any:
    def parse(value: object, where: str) -> dict[str, Any]:
        items = [value] if isinstance(value, str) else value
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(i, str) and i.strip() for i in items)
        ):
            raise SegmentError(f"{where}: expected a name or a list of names")
        names = frozenset(i.strip() for i in items)
        if allowed and (unknown := sorted(names - set(allowed))):
            raise SegmentError(f"{where}: unknown {unknown}, expected {allowed}")
        return {field: names}

    return parse


def _flag(field: str) -> Any:
    def parse(value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, bool):
            raise SegmentError(f"{where}: expected true or false, got {value!r}")
        return {field: value}

    return parse


def _duration(field: str) -> Any:
    return lambda value, where: {field: parse_duration(value, where)}


def _lead_score(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not value or set(value) - {"min", "max"}:
        raise SegmentError(f"{where}: expected {{min: 0.6, max: 1.0}}")
    bounds = {}
    for bound, number in value.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise SegmentError(f"{where}: {bound} must be a number, got {number!r}")
        if not 0 <= number <= 1:
            raise SegmentError(f"{where}: {bound} must be within 0..1")
        bounds[f"lead_score_{bound}"] = float(number)
    return bounds


def _count(value: object, where: str) -> dict[str, Any]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SegmentError(f"{where}: expected a whole number, got {value!r}")
    return {"min_clicks": value}


_PARSERS = {
    "categories": _names("categories"),
    "intents": _names("intents"),
    "scenes": _names("scenes"),
    "sentiment": _names("sentiments", SENTIMENT_LABELS),
    "joined_campaign": _names("campaigns"),
    "lead_score": _lead_score,
    "active_within": _duration("active_within"),
    "inactive_for": _duration("inactive_for"),
    "purchased": _flag("purchased"),
    "marketing_consent": _flag("marketing_consent"),
    "min_clicks": _count,
}
