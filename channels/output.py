"""The Rasa output channel of a WeChat turn: collects replies as ``Outbound`` items.

Rasa sends every bot message of a turn here while the turn runs. Nothing leaves
from this class: the turn runner decides, once the turn ends or the deadline
passes, which item goes back passively and which through the customer-service API.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import OutputChannel

from channels.rendering import (
    Article,
    ImageOut,
    NewsOut,
    Outbound,
    numbered_menu,
    texts,
)

logger = logging.getLogger(__name__)

CHANNEL_NAME = "wechat"


class WeChatCollector(OutputChannel):
    """Collects a turn's replies; remembers the numbers of a quick-reply menu.

    Custom payloads (``json_message`` of a response or ``dispatcher.utter_message``)
    understood here::

        {"wechat": {"type": "image", "media_id": "..."}}
        {"wechat": {"type": "news", "articles": [
            {"title": "...", "description": "...", "url": "...", "picurl": "..."}]}}
        {"wechat": {"type": "text", "content": "..."}}
    """

    def __init__(self) -> None:
        self.messages: list[Outbound] = []
        # Number typed by the user -> payload, of the latest menu in this turn.
        self.menu: dict[str, str] = {}

    @classmethod
    def name(cls) -> str:
        """Rasa's name of the channel (also the input channel's name)."""
        return CHANNEL_NAME

    def _add(self, items: Iterable[Outbound]) -> None:
        self.messages.extend(items)

    async def send_text_message(
        self, recipient_id: str, text: str, **kwargs: Any
    ) -> None:
        """Text, split at WeChat's 2048-byte limit on character boundaries."""
        self._add(texts(text))

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Buttons as a numbered menu; the numbers map back on the next message."""
        menu_text, choices = numbered_menu(text, buttons)
        self.menu = choices
        self._add(texts(menu_text))

    async def send_quick_replies(
        self,
        recipient_id: str,
        text: str,
        quick_replies: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Quick replies, rendered like buttons."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(
        self, recipient_id: str, image: str, **kwargs: Any
    ) -> None:
        """An image URL as a one-article news message with the picture."""
        self._add([NewsOut((Article(title="图片", url=image, picurl=image),))])

    async def send_attachment(
        self, recipient_id: str, attachment: str, **kwargs: Any
    ) -> None:
        """An attachment as text (WeChat has no generic attachment message)."""
        self._add(texts(str(attachment)))

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Carousel elements as news articles."""
        articles = tuple(
            Article(
                title=str(e.get("title", "")),
                description=str(e.get("subtitle", "")),
                url=_element_url(e),
                picurl=str(e.get("image_url", "")),
            )
            for e in elements
        )
        if articles:
            self._add(news(articles))

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """WeChat payloads under ``"wechat"`` (see the class); others are logged."""
        payload = json_message.get("wechat", json_message)
        kind = payload.get("type") if isinstance(payload, dict) else None
        if kind == "image" and payload.get("media_id"):
            self._add([ImageOut(str(payload["media_id"]))])
        elif kind == "news" and payload.get("articles"):
            self._add(news(_article(a) for a in payload["articles"]))
        elif kind == "text" and payload.get("content"):
            self._add(texts(str(payload["content"])))
        else:
            logger.warning(
                "WeChat cannot show custom payload %r; skipped.", json_message
            )


def news(articles: Iterable[Article]) -> list[Outbound]:
    """One news message per article: WeChat shows one article per message now."""
    return [NewsOut((article,)) for article in articles]


def _article(raw: dict[str, Any]) -> Article:
    return Article(
        title=str(raw.get("title", "")),
        description=str(raw.get("description", "")),
        url=str(raw.get("url", "")),
        picurl=str(raw.get("picurl") or raw.get("image") or ""),
    )


def _element_url(element: dict[str, Any]) -> str:
    action = element.get("default_action")
    return str(action.get("url", "")) if isinstance(action, dict) else ""


class WeChatPushOutput(WeChatCollector):
    """Sends every message through the customer-service API as soon as it is made.

    Rasa uses it outside a user's turn (reminders, ``trigger_intent`` with
    ``output_channel=wechat``), where no passive answer is possible.

    Args:
        deliver: sends messages to an openid (``TurnRunner.deliver``).
    """

    def __init__(
        self, deliver: Callable[[str, list[Outbound]], Awaitable[None]]
    ) -> None:
        super().__init__()
        self._deliver = deliver

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Collects the message like a turn would, then delivers it at once."""
        start = len(self.messages)
        await super().send_response(recipient_id, message)
        await self._deliver(recipient_id, self.messages[start:])
