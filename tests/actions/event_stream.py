"""An action's replies through Rasa and the event stream, as in a running bot.

Rasa turns what an action server sent into ``bot`` events (the real
``RemoteAction`` code, with the responses of ``domain.yml``); the event stream
(the activity broker, or the consumer of a cluster) records them with
:func:`marketing.event_records.recorded_from_event`.
"""

from __future__ import annotations

import functools
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher

from marketing.event_records import recorded_from_event, write_recorded
from marketing.store import MarketingStore
from tests.actions.conftest import ROOT


@functools.lru_cache(maxsize=1)
def _domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


async def bot_events(
    dispatcher: CollectingDispatcher, sender: str = "u1"
) -> list[dict[str, Any]]:
    """The ``bot`` events Rasa makes of the action's messages, as brokers get them."""
    domain = _domain()
    uttered = await RemoteAction._utter_responses(
        [dict(m) for m in dispatcher.messages],
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator(domain.responses),
        DialogueStateTracker(sender, domain.slots),
    )
    return [{"sender_id": sender, **event.as_dict()} for event in uttered]


async def stream_replies(
    dispatcher: CollectingDispatcher, store: MarketingStore, sender: str = "u1"
) -> None:
    """Records the action's replies as the event stream does."""
    events = await bot_events(dispatcher, sender)
    items = [r for e in events if (r := recorded_from_event(e)) is not None]
    with store.engine.begin() as connection:
        write_recorded(connection, store, items)
