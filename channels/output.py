"""The Rasa output channel of a WeChat turn: collects replies as ``Outbound`` items.

Rasa sends every bot message of a turn here while the turn runs. Nothing leaves
from this class: the turn runner decides, once the turn ends or the deadline
passes, which item goes back passively and which through the customer-service API.
The erase signal of ``action_delete_my_data`` (``privacy.erasure``) is not shown:
it sets ``erase_requested``, and the runner erases once the turn is saved. The
handoff signal of ``action_handoff`` (``wechat.handoff``) is not shown either: it
sets ``handoff_requested``, and the runner transfers the user to a human agent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import OutputChannel

import rich_reply
from privacy.erasure import is_erase_request
from wechat.handoff import is_handoff_request
from wechat.rendering import (
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
    are the rich replies of ``rich_reply``: every kind there is shown (news,
    numbered choices, image, link card); any other custom JSON is logged as an
    error and skipped.
    """

    def __init__(self) -> None:
        self.messages: list[Outbound] = []
        # Number typed by the user -> payload, of the latest menu in this turn.
        self.menu: dict[str, str] = {}
        # The turn asked to delete the user's data (``privacy.erasure``).
        self.erase_requested = False
        # The turn handed the user to a human agent (``wechat.handoff``).
        self.handoff_requested = False

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
        """A rich reply (``rich_reply``) in WeChat's form; anything else is logged.

        The erase signal (``privacy.erasure.ERASE_PAYLOAD``) shows nothing and sets
        ``erase_requested``; the handoff signal (``wechat.handoff.HANDOFF_PAYLOAD``)
        shows nothing and sets ``handoff_requested``.
        """
        if is_erase_request(json_message):
            self.erase_requested = True
            return
        if is_handoff_request(json_message):
            self.handoff_requested = True
            return
        try:
            reply = rich_reply.from_json(json_message)
        except rich_reply.PayloadError as e:
            logger.error("Malformed rich reply %r skipped: %s", json_message, e)
            return
        if reply is None:
            logger.error("Custom payload %r is no rich reply; skipped.", json_message)
            return
        await self.send_rich_reply(recipient_id, reply)

    async def send_rich_reply(
        self, recipient_id: str, reply: rich_reply.RichReply
    ) -> None:
        """Every kind of rich reply, as WeChat shows it."""
        if isinstance(reply, rich_reply.News):
            self._add(news(_article(a) for a in reply.articles))
        elif isinstance(reply, rich_reply.Choices):
            buttons = [{"title": c.title, "payload": c.payload} for c in reply.choices]
            await self.send_text_with_buttons(recipient_id, reply.text, buttons)
        elif isinstance(reply, rich_reply.Image):
            if reply.media_id:
                self._add([ImageOut(reply.media_id)])
            else:
                await self.send_image_url(recipient_id, reply.url)
        else:
            self._add(news([_article(reply)]))


def news(articles: Iterable[Article]) -> list[Outbound]:
    """One news message per article: WeChat shows one article per message now."""
    return [NewsOut((article,)) for article in articles]


def _article(item: rich_reply.Article | rich_reply.LinkCard) -> Article:
    return Article(
        title=item.title,
        description=item.description,
        url=item.url,
        picurl=item.picurl,
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
