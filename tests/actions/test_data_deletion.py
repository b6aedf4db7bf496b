"""删除我的数据: everything about the sender goes, in the real PostgreSQL too."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from rasa_sdk.events import AllSlotsReset
from rasa_sdk.executor import CollectingDispatcher

from actions.data_deletion import ActionDeleteMyData
from marketing.action_runs import ActionRecord
from marketing.activity import ActivityRecord
from marketing.campaign_sends import CampaignSends, PlannedRow
from marketing.coupons import Coupons
from marketing.lead_notifications import LeadNotifications
from marketing.leads import Lead, seal
from marketing.orders import record_order
from marketing.outbox import MarketingOutbox, Write
from marketing.store import IMPRESSION, Interaction, MarketingStore
from outbox.queue import DurableQueue
from privacy.cipher import DataCipher
from privacy.erasure import is_erase_request
from tests.actions.conftest import TrackerFactory
from tests.marketing.fixtures import T0, broken_store, rows_of

USERS = ("u1", "u2")


def _fill(store: MarketingStore, outbox: MarketingOutbox, cipher: DataCipher) -> None:
    """A row of each user in every table that holds personal data."""
    for user in USERS:
        store.log([Interaction(user, "p1", IMPRESSION, "hybrid", "c", f"t-{user}", T0)])
        store.record_event(f"t-{user}", "click")
        lead = seal(Lead(user, "王", "13812345678", True, True, 0.5), cipher, T0)
        store.add_lead(lead)
        store.opt_out(user)
        store.join_campaign(user, "camp-a")
        activity = ActivityRecord(f"e-{user}", user, "message", T0, intent="greet")
        ran = ActionRecord(f"a-{user}", user, "action_greet", T0)
        with store.engine.begin() as connection:
            connection.execute(store.table("activity").insert(), [activity.to_row()])
            connection.execute(store.table("action_runs").insert(), [ran.to_row()])
        record_order(store, f"order-{user}", f"t-{user}", Decimal("99.00"), "CNY")
        Coupons(store).issue(user, "service_recovery", "50元补偿券", valid_days=30)
        LeadNotifications(store).enqueue(lead)
        sends = CampaignSends(store)
        sends.add_plan("double12-reminder", [PlannedRow(user, "plain", "custom")])
        outbox.put(Write.opt_out(user, datetime(2026, 11, 22)))


async def test_nothing_of_the_sender_remains_in_postgresql_or_the_outbox(
    postgres_db: MarketingStore,
    cipher: DataCipher,
    tmp_path: Path,
    make_tracker: TrackerFactory,
) -> None:
    outbox = MarketingOutbox(DurableQueue(tmp_path / "outbox.db"))
    _fill(postgres_db, outbox, cipher)
    dispatcher = CollectingDispatcher()
    action = ActionDeleteMyData(store=lambda: postgres_db, outbox=outbox)
    events = await action.run(dispatcher, make_tracker(sender_id="u1"), {})
    assert events == [AllSlotsReset()]
    custom, said = dispatcher.messages
    assert is_erase_request(custom["custom"])
    assert said["response"] == "utter_data_deleted"
    assert rows_of(postgres_db, "u1") == {}
    # u1's queued opt-out was erased; u2's was replayed before the deletion.
    assert outbox.pending() == 0
    # The other customer keeps everything.
    assert set(rows_of(postgres_db, "u2")) == {
        t.name for t in postgres_db.metadata.tables.values() if "user_id" in t.c
    }


async def test_with_the_database_down_the_deletion_is_queued_and_runs_later(
    marketing_db: MarketingStore, cipher: DataCipher, make_tracker: TrackerFactory
) -> None:
    down = ActionDeleteMyData(store=broken_store)
    _fill(marketing_db, down.outbox, cipher)
    dispatcher = CollectingDispatcher()
    assert await down.run(dispatcher, make_tracker(sender_id="u1"), {}) == [
        AllSlotsReset()
    ]
    assert [m.get("response") for m in dispatcher.messages][-1] == "utter_data_deleted"
    assert [e.kind for e in down.outbox.queue.due()] == [
        "marketing.opt_out",
        "marketing.erase",
    ]
    assert marketing_db.leads("u1")  # still there until the database is back
    await ActionDeleteMyData().run(
        CollectingDispatcher(), make_tracker(sender_id="u3"), {}
    )
    assert rows_of(marketing_db, "u1") == {}
    assert marketing_db.is_opted_out("u2")  # u2's queued opt-out was replayed


async def test_a_deletion_nothing_could_take_is_not_reported_as_done(
    tmp_path: Path, make_tracker: TrackerFactory
) -> None:
    queue = DurableQueue(tmp_path / "outbox.db")
    (tmp_path / "outbox.db").unlink()
    (tmp_path / "outbox.db").mkdir()
    action = ActionDeleteMyData(store=broken_store, outbox=MarketingOutbox(queue))
    dispatcher = CollectingDispatcher()
    assert await action.run(dispatcher, make_tracker(), {}) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_delete_data_failed"]
