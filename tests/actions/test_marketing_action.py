from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.marketing_action import MarketingAction
from actions.subscription import ActionUnsubscribe
from catalog.model import Catalog
from marketing.connection import LazyStore, StoreFactory
from marketing.outbox import MarketingOutbox
from marketing.settings import Settings
from marketing.store import Interaction, MarketingStore
from outbox.queue import DurableQueue
from privacy.cipher import DataCipher, generate_key
from tests.actions.conftest import TODAY, TrackerFactory
from tests.faults import TcpProxy
from tests.marketing.fixtures import broken_store


class _History(MarketingAction):
    """Answers with the number of logged interactions, [] when the store fails."""

    def __init__(
        self, catalog: Catalog | None = None, store: StoreFactory | None = None
    ) -> None:
        super().__init__(catalog, lambda: TODAY, store)

    def name(self) -> str:
        return "action_history"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        nothing: list[Interaction] = []
        history = await self.db(lambda s: s.history(tracker.sender_id), nothing)
        dispatcher.utter_message(text=str(len(history)))
        return []


NOTHING: tuple[Interaction, ...] = ()


def fallbacks(kind: str) -> float:
    labels = {"kind": kind}
    return REGISTRY.get_sample_value("aurora_database_fallbacks_total", labels) or 0.0


def _buggy(store: MarketingStore) -> tuple[Interaction, ...]:
    raise KeyError("a bug in store code")


async def test_a_database_that_is_down_gives_the_fallback(
    catalog: Catalog, make_tracker: TrackerFactory
) -> None:
    action = _History(catalog, broken_store)
    nothing: list[Interaction] = []
    before = fallbacks("read")
    assert await action.db(lambda s: s.history("u1"), nothing) is nothing
    assert fallbacks("read") == before + 1
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, make_tracker("你好"), {})
    assert dispatcher.messages[0]["text"] == "0"


async def test_a_bug_in_store_code_is_not_taken_for_a_database_failure(
    catalog: Catalog, make_tracker: TrackerFactory, marketing_db: MarketingStore
) -> None:
    action = _History(catalog, lambda: marketing_db)
    with pytest.raises(KeyError):
        await action.db(_buggy, NOTHING)
    # At the action's boundary the customer gets an apology, not a wrong answer.
    original = action.respond

    async def buggy_respond(
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        await action.db(_buggy, NOTHING)
        return await original(dispatcher, tracker, domain)

    action.respond = buggy_respond  # type: ignore[method-assign]
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, make_tracker("你好"), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_action_failed"]


async def test_a_hung_database_costs_the_timeout_and_loses_no_opt_out(
    pg_proxy: TcpProxy,
    postgres_schema: str,
    cipher: DataCipher,
    tmp_path: Path,
    make_tracker: TrackerFactory,
) -> None:
    url = pg_proxy.url_for("postgresql", "/test", user="postgres")
    settings = Settings(
        database_url=url,
        database_timeout_s=1.0,
        outbox_path=str(tmp_path / "outbox.db"),
        data_key=generate_key(),
    )
    outbox = MarketingOutbox(DurableQueue(settings.outbox_path), retry_after_s=0)
    connect = functools.partial(
        MarketingStore.from_url, schema=postgres_schema, cipher=cipher
    )
    now = [0.0]
    store = LazyStore(
        url, clock=lambda: now[0], connect=connect, on_connect=outbox.replay
    )
    action = ActionUnsubscribe(settings=settings, store=store, outbox=outbox)
    tracker = make_tracker(intent="unsubscribe", sender_id="o_hung")
    await action.run(CollectingDispatcher(), tracker, {})  # connected, stored
    pg_proxy.hang()
    started = time.monotonic()
    later = make_tracker(intent="unsubscribe", sender_id="o_later")
    queued = fallbacks("outbox")
    events = await action.run(CollectingDispatcher(), later, {})
    assert fallbacks("outbox") == queued + 1
    assert time.monotonic() - started < 3.0
    assert events == [{"event": "slot", "timestamp": None, "name": "marketing_opt_out",
                       "value": True}]  # fmt: skip
    assert outbox.pending() == 1
    started = time.monotonic()  # the store is paused: no second wait
    assert await action.opted_out(make_tracker(sender_id="o_other")) is True
    assert time.monotonic() - started < 0.5
    pg_proxy.stop()  # the hung server is restarted: its connections drop
    pg_proxy.start()
    store.close()
    now[0] += 60  # past the store's pause
    await action.run(CollectingDispatcher(), make_tracker(sender_id="o_third"), {})
    assert outbox.pending() == 0
    reader = MarketingStore.from_url(
        "postgresql://postgres@127.0.0.1:5432/test", schema=postgres_schema
    )
    assert all(reader.is_opted_out(u) for u in ("o_hung", "o_later", "o_third"))
    reader.engine.dispose()
