"""Factories for trackers and actions bound to the real catalog on a fixed date."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rasa.core.nlg.interpolator import interpolate, interpolate_text
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from catalog.model import Catalog, Product
from marketing.store import MarketingStore

TODAY = date(2026, 11, 22)
ROOT = Path(__file__).resolve().parents[2]
# Keys of a sent message that are not response variables.
MESSAGE_KEYS = frozenset(
    {
        "text",
        "response",
        "buttons",
        "image",
        "elements",
        "custom",
        "attachment",
        "template",
    }
)
TrackerFactory = Callable[..., Tracker]


@pytest.fixture(autouse=True)
def isolated_marketing_db(marketing_db: MarketingStore) -> MarketingStore:
    """Every action test gets its own SQLite marketing store, never the repository's."""
    return marketing_db


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def make_tracker() -> TrackerFactory:
    """Builds a tracker whose latest message has the given text, intent and entities."""

    def factory(
        text: str = "",
        intent: str = "",
        entities: Sequence[tuple[str, str]] = (),
        slots: dict[str, Any] | None = None,
        confidence: float = 0.95,
        intent_ranking: list[dict[str, Any]] | None = None,
        sender_id: str = "u1",
    ) -> Tracker:
        return Tracker.from_dict(
            {
                "sender_id": sender_id,
                "slots": slots or {},
                "latest_message": {
                    "text": text,
                    "intent": {"name": intent, "confidence": confidence},
                    "intent_ranking": intent_ranking or [],
                    "entities": [{"entity": e, "value": v} for e, v in entities],
                },
                "events": [],
                "paused": False,
                "followup_action": None,
                "active_loop": {},
                "latest_action_name": "action_listen",
            }
        )

    return factory


def listed_products(text: str, catalog: Catalog) -> list[Product]:
    """The products of a numbered list reply ("1. 极光 X5 ¥3,999｜..."), in order."""
    names = re.findall(r"^\d+\. (.+?) ¥", text, flags=re.MULTILINE)
    return [p for name in names for p in catalog.products if p.name == name]


@functools.lru_cache(maxsize=1)
def domain_responses() -> dict[str, list[dict[str, Any]]]:
    """The responses of the repository's ``domain.yml``, as Rasa reads them."""
    return dict(Domain.load(str(ROOT / "domain.yml")).responses)


@pytest.fixture
def domain() -> DomainDict:
    """The repository's domain, as rasa-sdk hands it to actions."""
    return {"responses": domain_responses()}


def render(message: dict[str, Any]) -> str:
    """A sent message's text as Rasa renders it: a response filled with variables.

    Fails the test when the response is missing from ``domain.yml`` or one of its
    variables was not given.
    """
    name = message.get("response")
    if not name:
        return str(message.get("text") or "")
    variants = domain_responses().get(name)
    assert variants, f"{name} is not a response in domain.yml"
    values = {k: v for k, v in message.items() if k not in MESSAGE_KEYS}
    template = str(variants[0].get("text") or "")
    text = interpolate_text(template, values)
    assert text == template or "{" not in text, f"{name}: unfilled variable in {text}"
    missing = set(re.findall(r"{([^\n{}]+?)}", template)) - set(values)
    assert not missing, f"{name} needs {sorted(missing)}"
    return str(text)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A sent message's buttons as Rasa renders them: the response's, then its own."""
    name = message.get("response")
    variants = domain_responses().get(name) if name else None
    values = {k: v for k, v in message.items() if k not in MESSAGE_KEYS}
    own = list(message.get("buttons") or [])
    if not variants:
        return own
    return list(interpolate(variants[0].get("buttons") or [], values)) + own


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """The texts the action sent, responses rendered from ``domain.yml``."""
    return [render(m) for m in dispatcher.messages]
