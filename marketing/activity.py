"""What a follower did, one row of the ``activity`` table per message or event.

Rasa publishes every tracker event to its event broker (the activity broker in
one process, RabbitMQ and ``aurora-marketing consume-events`` in a cluster), which
map them with :mod:`marketing.event_records`; :func:`record_from_event` turns a
``user`` event into an :class:`ActivityRecord`: the kind of message or WeChat event
(subscribe, scan, unsubscribe, a menu click), the intent, the product category
it named, NLU's sentiment and the QR scene of a subscribe or scan. Profiles
(:mod:`marketing.profiles`) are built from these rows. The writer that stores
them without blocking Rasa is :mod:`marketing.activity_log`. No Rasa.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from nlu.constants import SENTIMENT, SENTIMENT_LABELS
from privacy.erasure import is_erase_request

MESSAGE, SUBSCRIBE, UNSUBSCRIBE, SCAN, MENU, EVENT = (
    "message",
    "subscribe",
    "unsubscribe",
    "scan",
    "menu",
    "event",
)
# WeChat events (metadata.wechat.event, lower case) with a kind of their own.
_EVENT_KINDS = {
    "subscribe": SUBSCRIBE,
    "unsubscribe": UNSUBSCRIBE,
    "scan": SCAN,
    "click": MENU,
}
# Kinds whose intent the customer asked for; the others carry a synthetic one
# (/greet for a subscribe, /unfollow), which says nothing about their interests.
_ASKING_KINDS = frozenset({MESSAGE, MENU})
# The entities (domain.yml) that name what a message was about.
CATEGORY_ENTITY, PRODUCT_ENTITY = "product_category", "product"
QR_SCENE_PREFIX = "qrscene_"
# Column widths of marketing.schema's activity table.
_WIDTHS = {"kind": 16, "intent": 64, "category": 32, "sentiment": 16, "scene": 64}


class _HasCategory(Protocol):
    @property
    def category(self) -> str: ...  # pragma: no cover


class CategorySource(Protocol):
    """Canonical categories of entity values (``catalog.model.Catalog``)."""

    def normalize_category(self, value: str) -> str | None:
        """The category a ``product_category`` value names, if any."""

    def find_product(self, text: str) -> _HasCategory | None:
        """The product a ``product`` value names, if any."""


@dataclass(frozen=True)
class ActivityRecord:
    """One row of the ``activity`` table (times in UTC, naive)."""

    # A hash of the Rasa event: the same event is stored once.
    event_id: str
    user_id: str
    kind: str
    created_at: datetime
    intent: str | None = None
    category: str | None = None
    sentiment: str | None = None
    scene: str | None = None

    def to_row(self) -> dict[str, Any]:
        """The row for the ``activity`` table."""
        return asdict(self)

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready form for the durable queue."""
        return {**asdict(self), "created_at": self.created_at.isoformat()}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ActivityRecord:
        """The record :meth:`to_payload` gave.

        Raises:
            KeyError, TypeError, ValueError: ``payload`` is not such a record.
        """
        values = dict(payload)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        return cls(**values)


def record_from_event(
    event: Mapping[str, Any], categories: CategorySource | None = None
) -> ActivityRecord | None:
    """The activity row of a Rasa event (as the event broker receives it).

    Args:
        event: ``{"sender_id": ..., **Event.as_dict()}``.
        categories: Maps entity values to canonical categories (the catalog);
            without it the ``product_category`` value is taken as it is.

    Returns:
        The record of a ``user`` event; ``None`` for every other event.
    """
    user_id = sender_of(event)
    if event.get("event") != "user" or user_id is None:
        return None
    parse_data = event.get("parse_data")
    parse_data = parse_data if isinstance(parse_data, Mapping) else {}
    wechat = _wechat_metadata(event, parse_data)
    kind = _kind(wechat)
    scene = None
    if kind in (SUBSCRIBE, SCAN):
        scene = _scene(wechat)
    intent = _intent(parse_data) if kind in _ASKING_KINDS else None
    return ActivityRecord(
        event_id=event_id(event),
        user_id=user_id,
        kind=kind,
        created_at=event_time(event),
        intent=_fit("intent", intent),
        category=_fit("category", _category(parse_data, categories)),
        sentiment=_sentiment(parse_data),
        scene=_fit("scene", scene),
    )


def erase_request_of(event: Mapping[str, Any]) -> str | None:
    """The customer whose data is being erased, when ``event`` asks for it.

    ``action_delete_my_data`` answers with :data:`privacy.erasure.ERASE_PAYLOAD`;
    the request's own message reaches the broker only after the action erased
    the store, so its activity must be erased once more.
    """
    if event.get("event") != "bot" or not event.get("sender_id"):
        return None
    data = event.get("data")
    custom = data.get("custom") if isinstance(data, Mapping) else None
    if isinstance(custom, Mapping) and is_erase_request(custom):
        return str(event["sender_id"])
    return None


def sender_of(event: Mapping[str, Any]) -> str | None:
    """The follower an event is about, when the tables can hold the id."""
    sender = event.get("sender_id")
    if not sender or len(str(sender)) > MAX_USER_ID:
        # None, or not an openid (28 characters): a row the column cannot hold
        # would fail every batch it is in.
        return None
    return str(sender)


def event_id(event: Mapping[str, Any]) -> str:
    """A stable id of a Rasa event, from what it holds.

    An event is stored once however often it arrives (a replay, the event
    stream's at-least-once delivery). A ``user`` event: sender, message id and
    timestamp, hashed (the ids activity rows always had); any other: sender,
    type, name and timestamp. The timestamp is Rasa's float, which survives
    JSON unchanged (``repr`` round-trips).
    """
    sender, timestamp = event.get("sender_id"), repr(event.get("timestamp"))
    if event.get("event") == "user":
        key = f"{sender}\x1f{event.get('message_id')}\x1f{timestamp}"
    else:
        key = f"{sender}\x1f{event.get('event')}\x1f{event.get('name')}\x1f{timestamp}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def event_time(event: Mapping[str, Any]) -> datetime:
    """When the event happened (UTC, naive); now when it carries no usable time."""
    timestamp = event.get("timestamp")
    seconds = (
        float(timestamp)
        if isinstance(timestamp, (int, float))
        else datetime.now(timezone.utc).timestamp()
    )
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def _wechat_metadata(
    event: Mapping[str, Any], parse_data: Mapping[str, Any]
) -> Mapping[str, Any]:
    for metadata in (event.get("metadata"), parse_data.get("metadata")):
        if isinstance(metadata, Mapping) and isinstance(
            metadata.get("wechat"), Mapping
        ):
            wechat: Mapping[str, Any] = metadata["wechat"]
            return wechat
    return {}


def _kind(wechat: Mapping[str, Any]) -> str:
    if str(wechat.get("msg_type", "")).lower() != "event":
        return MESSAGE
    return _EVENT_KINDS.get(str(wechat.get("event", "")).lower(), EVENT)


def _scene(wechat: Mapping[str, Any]) -> str | None:
    scene = str(wechat.get("scene") or "")
    if not scene:
        # Older metadata without the channel's "scene": WeChat's EventKey.
        scene = str(wechat.get("event_key") or "")
        scene = scene.removeprefix(QR_SCENE_PREFIX)
    return scene or None


def _intent(parse_data: Mapping[str, Any]) -> str | None:
    intent = parse_data.get("intent")
    name = intent.get("name") if isinstance(intent, Mapping) else None
    return str(name) if name else None


def _category(
    parse_data: Mapping[str, Any], categories: CategorySource | None
) -> str | None:
    entities = parse_data.get("entities")
    if not isinstance(entities, list):
        return None
    by_product = None
    for entity in entities:
        if not isinstance(entity, Mapping) or entity.get("value") is None:
            continue
        value = str(entity["value"])
        if entity.get("entity") == CATEGORY_ENTITY:
            if categories is None:
                return value
            # A span NLU tagged but no category name: nothing to match on.
            return categories.normalize_category(value)
        if entity.get("entity") == PRODUCT_ENTITY and categories is not None:
            product = categories.find_product(value)
            by_product = by_product or (product.category if product else None)
    return by_product


def _sentiment(parse_data: Mapping[str, Any]) -> str | None:
    sentiment = parse_data.get(SENTIMENT)
    label = sentiment.get("name") if isinstance(sentiment, Mapping) else None
    return label if label in SENTIMENT_LABELS else None


# The width of the tables' user_id columns (marketing/schema.py).
MAX_USER_ID = 128


def _fit(column: str, value: str | None) -> str | None:
    return value[: _WIDTHS[column]] if value else None
