"""Rich replies: the one contract between actions and channels (see ``payloads``)."""

from rich_reply.payloads import (
    KEY,
    KINDS,
    MAX_ARTICLES,
    Article,
    Choice,
    Choices,
    Image,
    LinkCard,
    News,
    PayloadError,
    RichReply,
    from_json,
    to_json,
)

__all__ = [
    "KEY",
    "KINDS",
    "MAX_ARTICLES",
    "Article",
    "Choice",
    "Choices",
    "Image",
    "LinkCard",
    "News",
    "PayloadError",
    "RichReply",
    "from_json",
    "to_json",
]
