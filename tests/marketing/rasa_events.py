"""Rasa events as the event broker gets them (and RabbitMQ carries them)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from marketing.followups import followup_marker

TS = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc).timestamp()


def user_event(
    text: str = "有什么耳机",
    intent: str = "ask_product_info",
    entities: list[dict[str, Any]] | None = None,
    sentiment: str | None = "neutral",
    wechat: dict[str, Any] | None = None,
    sender: str = "o_fan",
    timestamp: float = TS,
) -> dict[str, Any]:
    """A user event as Rasa's tracker store hands it to the broker."""
    metadata = {"wechat": {"openid": sender, "msg_type": "text", **(wechat or {})}}
    parse_data: dict[str, Any] = {
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "text": text,
        "metadata": metadata,
    }
    if sentiment:
        parse_data["sentiment"] = {"name": sentiment, "confidence": 0.8}
    return {
        "sender_id": sender,
        "event": "user",
        "timestamp": timestamp,
        "metadata": metadata,
        "text": text,
        "parse_data": parse_data,
        "input_channel": "wechat",
        "message_id": f"m-{timestamp}",
    }


def action_event(
    name: str, sender: str = "o_fan", timestamp: float = TS
) -> dict[str, Any]:
    """An ``action`` event (``ActionExecuted.as_dict()``)."""
    return {
        "sender_id": sender,
        "event": "action",
        "timestamp": timestamp,
        "metadata": {"model_id": "m1"},
        "name": name,
        "policy": "RulePolicy",
        "confidence": 1.0,
        "action_text": None,
        "hide_rule_turn": False,
    }


def bot_event(
    text: str = "好的",
    sender: str = "o_fan",
    timestamp: float = TS,
    metadata: dict[str, Any] | None = None,
    custom: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``bot`` event (``BotUttered.as_dict()``)."""
    return {
        "sender_id": sender,
        "event": "bot",
        "timestamp": timestamp,
        "metadata": metadata or {},
        "text": text,
        "data": {"custom": custom},
    }


def followup_event(
    item_id: str,
    event: str,
    tracking_id: str | None = None,
    sender: str = "o_fan",
    timestamp: float = TS,
) -> dict[str, Any]:
    """The reply of a product action that marked it a follow-up."""
    return bot_event(
        sender=sender,
        timestamp=timestamp,
        metadata=followup_marker(item_id, event, tracking_id),
    )
