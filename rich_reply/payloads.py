"""The rich replies an action may send, and their one JSON shape.

An action builds a reply here and sends ``to_json(reply)`` as the custom part of a
bot message (``dispatcher.utter_message(text=..., json_message=...)``), with a
plain text beside it for channels that show text only. A channel reads it back
with `from_json`. How each kind is shown:

============  ===========================================  =======================
kind          WeChat (passive XML or customer-service API)  REST
============  ===========================================  =======================
news          one 图文 message per article                  ``custom`` as written
choices       numbered text menu; "1" answers the first     ``custom`` as written
image         image message (``media_id``) or a picture     ``custom`` as written
              article (``url``)
link          one 图文 message                              ``custom`` as written
============  ===========================================  =======================

The REST channel passes ``custom`` through unchanged, so REST clients get this
shape too. Plain Python: no Rasa, no channel, no action code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

# The key of a rich reply inside a bot message's custom JSON.
KEY = "rich_reply"
# WeChat shows at most 8 articles per news message; every channel gets as many.
MAX_ARTICLES = 8


_T = TypeVar("_T", "Article", "Choice", "Image", "LinkCard")


class PayloadError(ValueError):
    """A custom JSON claims to be a rich reply but does not fit its kind."""


@dataclass(frozen=True)
class Article:
    """One article of a news reply: a title, a link and optionally a picture."""

    title: str
    url: str
    description: str = ""
    picurl: str = ""

    def __post_init__(self) -> None:
        _require(self.title, "an article needs a title")
        _require(self.url, "an article needs a url")


@dataclass(frozen=True)
class News:
    """Articles (图文), 1 to `MAX_ARTICLES` of them."""

    articles: tuple[Article, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.articles) <= MAX_ARTICLES:
            raise PayloadError(f"news needs 1 to {MAX_ARTICLES} articles")


@dataclass(frozen=True)
class Choice:
    """One numbered choice: what the customer sees and what it sends back."""

    title: str
    payload: str

    def __post_init__(self) -> None:
        _require(self.title, "a choice needs a title")
        _require(self.payload, "a choice needs a payload")


@dataclass(frozen=True)
class Choices:
    """A question with numbered choices (buttons where a channel has them)."""

    text: str
    choices: tuple[Choice, ...]

    def __post_init__(self) -> None:
        _require(self.text, "choices need a question text")
        if not self.choices:
            raise PayloadError("choices need at least one choice")


@dataclass(frozen=True)
class Image:
    """A picture: a WeChat ``media_id`` (already uploaded) or a public ``url``."""

    url: str = ""
    media_id: str = ""

    def __post_init__(self) -> None:
        if bool(self.url) == bool(self.media_id):
            raise PayloadError("an image needs exactly one of url and media_id")


@dataclass(frozen=True)
class LinkCard(Article):
    """A link shown on its own as a card: the fields and checks of an article."""


RichReply = News | Choices | Image | LinkCard
KINDS: dict[str, type[RichReply]] = {
    "news": News,
    "choices": Choices,
    "image": Image,
    "link": LinkCard,
}
_KIND_OF = {cls: kind for kind, cls in KINDS.items()}


def to_json(reply: RichReply) -> dict[str, Any]:
    """The custom JSON of ``reply``: ``{"rich_reply": {"kind": ..., ...}}``."""
    body: dict[str, Any] = {"kind": _KIND_OF[type(reply)]}
    if isinstance(reply, News):
        body["articles"] = [_plain(a) for a in reply.articles]
    elif isinstance(reply, Choices):
        body["text"] = reply.text
        body["choices"] = [_plain(c) for c in reply.choices]
    else:
        body.update(_plain(reply))
    return {KEY: body}


def from_json(custom: Mapping[str, Any]) -> RichReply | None:
    """The rich reply in a bot message's custom JSON; None if there is none.

    Raises:
        PayloadError: The JSON has a rich reply that does not fit its kind.
    """
    body = custom.get(KEY)
    if body is None:
        return None
    if not isinstance(body, Mapping):
        raise PayloadError(f"{KEY} must be an object, got {type(body).__name__}")
    kind = body.get("kind")
    try:
        if kind == "news":
            return News(tuple(_build(Article, a) for a in _list(body, "articles")))
        if kind == "choices":
            return Choices(
                str(body.get("text", "")),
                tuple(_build(Choice, c) for c in _list(body, "choices")),
            )
        if kind == "image":
            return _build(Image, body)
        if kind == "link":
            return _build(LinkCard, body)
    except (TypeError, AttributeError) as e:
        raise PayloadError(f"{kind} reply is malformed: {e}") from e
    raise PayloadError(f"unknown {KEY} kind {kind!r}; known: {sorted(KINDS)}")


def _require(value: str, message: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(message)


def _plain(item: Any) -> dict[str, str]:
    return {f.name: getattr(item, f.name) for f in fields(item)}


def _list(body: Mapping[str, Any], key: str) -> list[Any]:
    value = body.get(key)
    if not isinstance(value, list):
        raise PayloadError(f"{key} must be a list")
    return value


def _build(cls: type[_T], raw: Any) -> _T:
    if not isinstance(raw, Mapping):
        raise PayloadError(f"{cls.__name__} must be an object")
    names = {f.name for f in fields(cls)}
    return cls(**{k: str(v) for k, v in raw.items() if k in names})
