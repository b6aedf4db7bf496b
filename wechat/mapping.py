"""WeChat messages and events to Rasa user messages: a registry, not an if-chain.

``@register("text")`` or ``@register("event", "CLICK")`` adds a handler that turns
the flat fields of a message into an ``Inbound``: the text Rasa reads (a sentence or
an ``/intent{"entity": ...}``), the WeChat metadata for the tracker, or a direct
answer when no turn is needed (a ``DirectReply``, whose text the channel reads from
``domain.yml``: ``wechat.texts``). Unregistered types get ``success`` and no turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# Messages the bot cannot look at (pictures, videos) go to the domain's out_of_scope,
# whose responses offer a human agent.
UNSEEN_MEDIA_INTENT = "/out_of_scope"
GREET = "/greet"
# The unfollow event; the dialogue records the opt-out (data/rules.yml).
UNFOLLOW = "/unfollow"
STORE_QUESTION = "/ask_store"
QR_SCENE_PREFIX = "qrscene_"
# 广东省深圳市南山区… -> 深圳; 上海市徐汇区… -> 上海.
_PROVINCE = re.compile(r"^(?:中国)?(?:[\u4e00-\u9fff]{2,8}?(?:省|自治区))?")
_CITY = re.compile(r"^([\u4e00-\u9fff]{2,7}?)市")


class DirectReply(Enum):
    """An answer the channel gives at once, without a turn (``ChannelTexts``)."""

    # A voice message WeChat could not transcribe.
    ASK_TO_TYPE = "ask_to_type"


@dataclass(frozen=True)
class Inbound:
    """What one WeChat message asks of the channel.

    Attributes:
        text: the user message for Rasa; None when no turn runs.
        metadata: WeChat's fields for the tracker (under ``"wechat"``).
        direct_reply: an answer given at once, without a turn.
        deliver_replies: False when the user cannot receive them (unfollow).
        ends_handoff: the human agent closed the session (``wechat.handoff``).
    """

    text: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    direct_reply: DirectReply | None = None
    deliver_replies: bool = True
    ends_handoff: bool = False


Handler = Callable[[Mapping[str, str], "MappingContext"], Inbound]


@dataclass(frozen=True)
class MappingContext:
    """Settings a handler may need: the CLICK menu."""

    menu: Mapping[str, str]


_HANDLERS: dict[tuple[str, str], Handler] = {}


def register(msg_type: str, event: str = "") -> Callable[[Handler], Handler]:
    """Registers a handler for a ``MsgType`` (and, for events, an ``Event``)."""

    def decorator(handler: Handler) -> Handler:
        _HANDLERS[(msg_type.lower(), event.lower())] = handler
        return handler

    return decorator


def metadata(fields: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    """WeChat metadata for the tracker: openid, MsgType, MsgId, CreateTime, ..."""
    meta: dict[str, Any] = {
        "openid": fields.get("FromUserName", ""),
        "account": fields.get("ToUserName", ""),
        "msg_type": fields.get("MsgType", ""),
        "msg_id": fields.get("MsgId", ""),
        "create_time": _int(fields.get("CreateTime")),
    }
    if fields.get("Event"):
        meta["event"] = fields["Event"]
        meta["event_key"] = fields.get("EventKey", "")
    meta.update(extra)
    return {"wechat": meta}


def to_inbound(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    """Maps a parsed message; unknown types and events give ``Inbound(None)``."""
    msg_type = fields.get("MsgType", "").lower()
    event = fields.get("Event", "").lower() if msg_type == "event" else ""
    handler = _HANDLERS.get((msg_type, event))
    if handler is None:
        return Inbound(text=None, metadata=metadata(fields))
    return handler(fields, context)


def intent(name: str, **entities: str) -> str:
    """``/name{"entity": "value"}``, the message form Rasa parses without NLU."""
    if not entities:
        return name
    return name + json.dumps(entities, ensure_ascii=False)


def city_of(label: str) -> str | None:
    """The city of a WeChat location label, e.g. 深圳 in 广东省深圳市南山区…."""
    found = _CITY.match(_PROVINCE.sub("", label.strip(), count=1))
    return found.group(1) if found else None


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


# --- messages ---------------------------------------------------------------------


@register("text")
def _text(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    return Inbound(text=fields.get("Content", ""), metadata=metadata(fields))


@register("voice")
def _voice(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    recognition = fields.get("Recognition", "").strip()
    meta = metadata(fields, media_id=fields.get("MediaId", ""))
    if not recognition:
        return Inbound(text=None, metadata=meta, direct_reply=DirectReply.ASK_TO_TYPE)
    return Inbound(text=recognition, metadata=meta)


@register("image")
def _image(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    meta = metadata(
        fields, pic_url=fields.get("PicUrl", ""), media_id=fields.get("MediaId", "")
    )
    return Inbound(text=UNSEEN_MEDIA_INTENT, metadata=meta)


@register("video")
@register("shortvideo")
def _video(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    meta = metadata(fields, media_id=fields.get("MediaId", ""))
    return Inbound(text=UNSEEN_MEDIA_INTENT, metadata=meta)


@register("link")
def _link(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    # A shared link is read by its title: "极光 X5 Pro 限时优惠" is a product question.
    title = fields.get("Title", "").strip()
    meta = metadata(fields, url=fields.get("Url", ""), title=title)
    return Inbound(text=title or UNSEEN_MEDIA_INTENT, metadata=meta)


@register("location")
def _location(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    label = fields.get("Label", "")
    meta = metadata(
        fields,
        latitude=fields.get("Location_X", ""),
        longitude=fields.get("Location_Y", ""),
        label=label,
    )
    city = city_of(label)
    text = intent(STORE_QUESTION, city=city) if city else STORE_QUESTION
    return Inbound(text=text, metadata=meta)


# --- events -----------------------------------------------------------------------


@register("event", "subscribe")
def _subscribe(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    key = fields.get("EventKey", "")
    scene = key[len(QR_SCENE_PREFIX) :] if key.startswith(QR_SCENE_PREFIX) else ""
    return Inbound(text=GREET, metadata=metadata(fields, scene=scene))


@register("event", "scan")
def _scan(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    return Inbound(
        text=GREET, metadata=metadata(fields, scene=fields.get("EventKey", ""))
    )


@register("event", "unsubscribe")
def _unsubscribe(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    # An ordinary turn whose rule records the opt-out (action_unsubscribe) and says
    # nothing; the user can no longer receive messages, so none are delivered.
    return Inbound(text=UNFOLLOW, metadata=metadata(fields), deliver_replies=False)


@register("event", "kf_close_session")
def _kf_close_session(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    # The human agent ended the session: the bot answers the user again.
    meta = metadata(fields, kf_account=fields.get("KfAccount", ""))
    return Inbound(text=None, metadata=meta, ends_handoff=True)


@register("event", "click")
def _click(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    key = fields.get("EventKey", "")
    return Inbound(text=context.menu.get(key), metadata=metadata(fields))


@register("event", "view")
def _view(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    # The user opened a menu link; WeChat shows the page, the bot stays quiet.
    return Inbound(text=None, metadata=metadata(fields, url=fields.get("EventKey", "")))


@register("event", "location")
def _location_report(fields: Mapping[str, str], context: MappingContext) -> Inbound:
    # Sent each time the user opens the chat (if location reporting is on): answering
    # it would greet them every time, so it is acknowledged without a turn.
    return Inbound(
        text=None,
        metadata=metadata(
            fields,
            latitude=fields.get("Latitude", ""),
            longitude=fields.get("Longitude", ""),
            precision=fields.get("Precision", ""),
        ),
    )
