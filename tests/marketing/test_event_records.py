"""One mapping from Rasa events to records, one writer of them."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from marketing.action_runs import ActionRecord
from marketing.activity import ActivityRecord
from marketing.activity_log import SPILLED, ActivityLog
from marketing.event_records import (
    SPILL_KINDS,
    Erasure,
    Recorded,
    record_from_payload,
    recorded_from_event,
    spill_kind,
    write_recorded,
)
from marketing.followups import Followup
from marketing.store import CLICK, IMPRESSION, Interaction, MarketingStore
from outbox.queue import DurableQueue
from privacy.erasure import ERASE_PAYLOAD
from tests.marketing.fixtures import broken_store
from tests.marketing.rasa_events import (
    TS,
    action_event,
    bot_event,
    followup_event,
    user_event,
)


def count(store: MarketingStore, table: str, user: str = "o_fan") -> int:
    t = store.table(table)
    query = sa.select(sa.func.count()).where(t.c.user_id == user)
    with store.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def write(store: MarketingStore, items: list[Recorded | None]) -> None:
    with store.engine.begin() as connection:
        write_recorded(connection, store, [i for i in items if i is not None])


def test_each_kind_of_event_maps_to_its_record() -> None:
    assert isinstance(recorded_from_event(user_event()), ActivityRecord)
    assert isinstance(recorded_from_event(action_event("utter_greet")), ActionRecord)
    assert isinstance(recorded_from_event(followup_event("p1", CLICK)), Followup)
    erase = bot_event(custom=ERASE_PAYLOAD)
    assert recorded_from_event(erase) == Erasure("o_fan")
    for silent in (
        action_event("action_listen"),
        bot_event(),
        {"event": "slot", "sender_id": "o_fan", "name": "product", "value": "X5"},
        {"event": "session_started", "sender_id": "o_fan"},
    ):
        assert recorded_from_event(silent) is None


def test_a_batch_written_twice_is_stored_once(marketing_db: MarketingStore) -> None:
    shown_at = datetime(2026, 12, 1, 7, 0)  # an hour before TS
    marketing_db.log(
        [Interaction("o_fan", "p1", IMPRESSION, "v", None, "t1", shown_at)]
    )
    batch = [
        recorded_from_event(e)
        for e in (
            user_event(timestamp=TS),
            action_event("action_product_info", timestamp=TS + 0.1),
            followup_event("p1", CLICK, timestamp=TS + 0.2),
            user_event(timestamp=TS + 5),
        )
    ]
    write(marketing_db, batch)
    write(marketing_db, batch + batch)
    assert count(marketing_db, "activity") == 2
    assert count(marketing_db, "action_runs") == 1
    assert [i.event for i in marketing_db.history("o_fan")] == [IMPRESSION, CLICK]


def test_an_erasure_clears_what_came_before_it_not_after(
    marketing_db: MarketingStore,
) -> None:
    items = [
        recorded_from_event(user_event(timestamp=TS)),
        recorded_from_event(action_event("action_delete_my_data", timestamp=TS + 1)),
        recorded_from_event(user_event(sender="o_other")),
        recorded_from_event(bot_event(custom=ERASE_PAYLOAD, timestamp=TS + 2)),
        recorded_from_event(user_event(timestamp=TS + 60)),
    ]
    write(marketing_db, items)
    assert (count(marketing_db, "activity"), count(marketing_db, "action_runs")) == (
        1,
        0,
    )
    assert count(marketing_db, "activity", "o_other") == 1


def test_every_record_survives_the_durable_queue() -> None:
    for event in (
        user_event(),
        action_event("utter_greet"),
        followup_event("p1", CLICK, "t1"),
    ):
        found = recorded_from_event(event)
        assert found is not None and not isinstance(found, Erasure)
        assert record_from_payload(spill_kind(found), found.to_payload()) == found
    assert SPILL_KINDS[ActivityRecord] == SPILLED  # what older files hold


def test_the_activity_log_sets_every_kind_aside_and_replays_it(
    marketing_db: MarketingStore, tmp_path: Path
) -> None:
    spill = DurableQueue(tmp_path / "q.db")
    up = {"now": False}

    def store() -> MarketingStore:
        return marketing_db if up["now"] else broken_store()

    marketing_db.log(
        [Interaction("o_fan", "p1", IMPRESSION, "v", None, "t1", marketing_db.now())]
    )
    log = ActivityLog(store, spill, retry_after_s=0.05, flush_interval_s=0.05).start()
    for event in (
        user_event(),
        action_event("action_product_info", timestamp=TS + 1),
        followup_event("p1", CLICK, "t1", timestamp=TS + 2),
    ):
        found = recorded_from_event(event)
        assert found is not None and not isinstance(found, Erasure)
        log.add(found)
    assert log.flush()
    assert spill.pending() == 3
    up["now"] = True
    deadline = time.monotonic() + 10
    while spill.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    log.close()
    assert (count(marketing_db, "activity"), count(marketing_db, "action_runs")) == (
        1,
        1,
    )
    assert [i.event for i in marketing_db.history("o_fan")] == [IMPRESSION, CLICK]
    assert (log.stats.spilled, log.stats.replayed, log.stats.lost) == (3, 3, 0)
