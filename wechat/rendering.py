"""What the bot says, in WeChat's two forms: passive XML and customer-service JSON.

A turn's replies become ``Outbound`` items (text of at most 2048 UTF-8 bytes, an
image by media_id, or news articles 图文). The first can go back passively (wechatpy's
``replies``); the others, or all of them after the deadline, through the
customer-service API (bodies as wechatpy's ``WeChatMessage.send_*`` build them).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wechatpy.replies import (
    ArticlesReply,
    BaseReply,
    ImageReply,
    TextReply,
    TransferCustomerServiceReply,
)

# WeChat's limit for one text message, passive or through the API.
MAX_TEXT_BYTES = 2048
# WeChat shows one article per news message (图文), passive or through the API,
# since its 2018 change; the channel makes one message per article.
MAX_PASSIVE_ARTICLES = 1
SUCCESS = "success"


@dataclass(frozen=True)
class TextOut:
    """A text message of at most ``MAX_TEXT_BYTES`` bytes."""

    content: str


@dataclass(frozen=True)
class ImageOut:
    """An image already uploaded to WeChat (a ``media_id``)."""

    media_id: str


@dataclass(frozen=True)
class Article:
    """One article of a news message (图文)."""

    title: str
    description: str = ""
    url: str = ""
    picurl: str = ""


@dataclass(frozen=True)
class NewsOut:
    """A news message (图文)."""

    articles: tuple[Article, ...]


Outbound = TextOut | ImageOut | NewsOut


def split_utf8(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Splits ``text`` into pieces of at most ``limit`` UTF-8 bytes.

    Pieces end on character boundaries, preferably after a line break when one
    lies in the second half of the piece. Empty text gives no piece.
    """
    pieces: list[str] = []
    rest = text
    while rest:
        if len(rest.encode("utf-8")) <= limit:
            pieces.append(rest)
            break
        cut = _fit(rest, limit)
        newline = rest.rfind("\n", 0, cut)
        if newline >= cut // 2:
            cut = newline + 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [piece for piece in pieces if piece.strip()]


def _fit(text: str, limit: int) -> int:
    """The largest number of leading characters of ``text`` within ``limit`` bytes."""
    used = 0
    for index, char in enumerate(text):
        used += len(char.encode("utf-8"))
        if used > limit:
            return max(1, index)
    return len(text)


def numbered_menu(
    text: str, buttons: Sequence[dict[str, Any]]
) -> tuple[str, dict[str, str]]:
    """Renders Rasa buttons as a numbered text menu.

    Returns:
        The text (prompt, then ``1. title`` lines and a hint) and the numbers'
        payloads, to map the user's next ``1``, ``2``... back.
    """
    lines = [text] if text else []
    choices: dict[str, str] = {}
    for number, button in enumerate(buttons, start=1):
        title = str(button.get("title") or button.get("payload") or "")
        lines.append(f"{number}. {title}")
        choices[str(number)] = str(button.get("payload") or title)
    if choices:
        lines.append("回复数字即可选择")
    return "\n".join(lines), choices


def texts(content: str) -> list[Outbound]:
    """``content`` as text messages within WeChat's byte limit."""
    return [TextOut(piece) for piece in split_utf8(content)]


def merge_texts(messages: Iterable[Outbound]) -> list[Outbound]:
    """Joins every text into one message (cut to the limit) for passive-only mode."""
    joined = "\n\n".join(m.content for m in messages if isinstance(m, TextOut))
    if not joined:
        return []
    pieces = split_utf8(joined)
    first = pieces[0]
    if len(pieces) > 1:
        first = split_utf8(first, MAX_TEXT_BYTES - len("…".encode()))[0] + "…"
    return [TextOut(first)]


def _cdata_safe(value: str) -> str:
    # wechatpy writes fields into CDATA without escaping; "]]>" would end it early.
    return value.replace("]]>", "]]]]><![CDATA[>")


def passive_reply(
    message: Outbound, to_user: str, from_user: str, now: float | None = None
) -> str:
    """Renders ``message`` as a passive reply XML with wechatpy's ``replies``."""
    created = int(time.time() if now is None else now)
    reply: BaseReply
    if isinstance(message, TextOut):
        reply = TextReply(content=_cdata_safe(message.content))
    elif isinstance(message, ImageOut):
        reply = ImageReply(media_id=_cdata_safe(message.media_id))
    else:
        reply = ArticlesReply(
            articles=[
                {
                    "title": _cdata_safe(a.title),
                    "description": _cdata_safe(a.description),
                    "image": _cdata_safe(a.picurl),
                    "url": _cdata_safe(a.url),
                }
                for a in message.articles[:MAX_PASSIVE_ARTICLES]
            ]
        )
    reply.source = _cdata_safe(from_user)
    reply.target = _cdata_safe(to_user)
    reply.time = created
    xml: str = reply.render()
    return xml


def transfer_reply(to_user: str, from_user: str, now: float | None = None) -> str:
    """The passive reply that hands the message to a human agent (多客服).

    WeChat's ``transfer_customer_service``: the message goes to the agents'
    workbench instead of being answered by the bot (``wechat.handoff``).
    """
    reply = TransferCustomerServiceReply()
    reply.source = _cdata_safe(from_user)
    reply.target = _cdata_safe(to_user)
    reply.time = int(time.time() if now is None else now)
    xml: str = reply.render()
    return xml


def customer_service_bodies(
    message: Outbound, openid: str, kf_account: str = ""
) -> list[dict[str, Any]]:
    """The JSON bodies of ``message/custom/send`` for ``message``.

    One body, except for news with several articles: the API takes one article per
    message, so each article becomes its own message.
    """
    bodies: list[dict[str, Any]] = []
    if isinstance(message, TextOut):
        bodies.append({"msgtype": "text", "text": {"content": message.content}})
    elif isinstance(message, ImageOut):
        bodies.append({"msgtype": "image", "image": {"media_id": message.media_id}})
    else:
        for article in message.articles:
            news = {
                "title": article.title,
                "description": article.description,
                "url": article.url,
                "picurl": article.picurl,
            }
            bodies.append({"msgtype": "news", "news": {"articles": [news]}})
    for body in bodies:
        body["touser"] = openid
        if kf_account:
            body["customservice"] = {"kf_account": kf_account}
    return bodies
