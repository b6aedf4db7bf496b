"""What an abandoned turn already left in Rasa's tracker store.

A replica that dies mid-turn may have saved the turn (Rasa saves the tracker once
the turn's actions ran) before it answered the user. The replica that takes the
turn over (``wechat.dedup``'s lapsed lease) must then not run it a second time,
only send what it said: the bot messages that follow the user's message in the
tracker. When the message is not in the tracker, the turn never completed and
runs again.
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import BotUttered, UserUttered


async def recorded_replies(
    tracker_store: TrackerStore, sender_id: str, message_id: str
) -> list[dict[str, Any]] | None:
    """The bot messages of the saved turn of ``message_id``, in order.

    Returns:
        Each ``BotUttered`` after the user message with ``message_id``, up to the
        next user message, as Rasa's output channels take it (``send_response``);
        None when the tracker holds no such user message.
    """
    tracker = await tracker_store.retrieve(sender_id)
    if tracker is None:
        return None
    replies: list[dict[str, Any]] | None = None
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif isinstance(event, BotUttered) and replies is not None:
            replies.append(event.message())
    return replies
