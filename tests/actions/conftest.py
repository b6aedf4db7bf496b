"""Factories for trackers and actions bound to the real catalog on a fixed date."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from catalog.model import Catalog, Product
from marketing.store import MarketingStore

TODAY = date(2026, 11, 22)
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


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """The texts the action sent."""
    return [m.get("text") or "" for m in dispatcher.messages]
