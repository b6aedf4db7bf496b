"""删除我的数据 / 注销: the customer's request to erase everything about them.

``action_delete_my_data`` runs once the customer confirmed (data/rules.yml). It
deletes what the action server holds for the sender: the queued writes in the
outbox, then every row of the marketing store (interactions, leads, opt-outs,
campaign sign-ups), or, while the database is down, a deletion request queued
behind them in the outbox (it runs when the database is back). Then it sends
:data:`privacy.erasure.ERASE_PAYLOAD`, on which the WeChat channel deletes the
conversation and its keys for the openid after the turn, says
``utter_data_deleted`` and resets the slots. Only when neither the database nor
the outbox takes the deletion does the customer hear ``utter_delete_data_failed``
instead, and nothing is erased on the channel's side either: a half deletion
reported as done would be worse than an honest failure.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import AllSlotsReset
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.marketing_action import MarketingAction
from marketing.outbox import Kept, Write
from outbox.queue import QueueError
from privacy.erasure import ERASE_PAYLOAD

logger = logging.getLogger(__name__)


class ActionDeleteMyData(MarketingAction):
    """Erases the sender's data in the store and the outbox, then on the channel."""

    def name(self) -> str:
        """Action name used in the domain."""
        return "action_delete_my_data"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Deletes, or apologises when the deletion could not even be queued."""
        sender = tracker.sender_id
        try:
            queued = await asyncio.to_thread(self.outbox.erase_user, sender)
        except QueueError:
            logger.exception("Cannot erase the outbox entries of %s.", sender)
            dispatcher.utter_message(response="utter_delete_data_failed")
            return []
        kept = await self.keep(Write.erase(sender))
        logger.info(
            "Data of %s erased: %d outbox entries; store rows %s.",
            sender,
            queued,
            kept.value,
        )
        if kept is Kept.LOST:
            dispatcher.utter_message(response="utter_delete_data_failed")
            return []
        dispatcher.utter_message(json_message=ERASE_PAYLOAD)
        dispatcher.utter_message(response="utter_data_deleted")
        return [AllSlotsReset()]
