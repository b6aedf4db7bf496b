"""The customer's request to delete their data, as it travels from action to channel.

``action_delete_my_data`` deletes what the action server holds (the marketing
store, its outbox) and then sends :data:`ERASE_PAYLOAD` as a custom message; the
WeChat channel does not show it but, once the turn is saved, deletes the
conversation (tracker events) and its own keys for that openid. The operator
command does all of it at once for a given openid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# The custom payload that asks the channel to erase the sender's conversation.
ERASE_PAYLOAD: Final[dict[str, str]] = {"privacy": "erase_user_data"}


def is_erase_request(payload: Mapping[str, Any]) -> bool:
    """Whether a custom payload is :data:`ERASE_PAYLOAD`."""
    return dict(payload) == ERASE_PAYLOAD
