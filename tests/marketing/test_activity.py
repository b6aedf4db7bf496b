"""Activity from Rasa events, written in the background, kept while PG is down."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from catalog.model import Catalog
from marketing.activity import (
    MAX_USER_ID,
    MENU,
    MESSAGE,
    SCAN,
    SUBSCRIBE,
    UNSUBSCRIBE,
    ActivityRecord,
    erase_request_of,
    record_from_event,
)
from marketing.activity_log import SPILLED, ActivityLog
from marketing.connection import LazyStore
from marketing.store import MarketingStore
from outbox.queue import DurableQueue
from privacy.erasure import ERASE_PAYLOAD
from tests.faults import TcpProxy
from tests.marketing.fixtures import broken_store
from tests.marketing.rasa_events import TS, user_event


def record(n: int, user: str = "o_fan") -> ActivityRecord:
    return ActivityRecord(
        event_id=f"e{n}", user_id=user, kind=MESSAGE, created_at=datetime(2026, 12, 1)
    )


def test_a_message_gives_its_intent_category_and_sentiment() -> None:
    entities = [{"entity": "product_category", "value": "耳机", "start": 3, "end": 5}]
    found = record_from_event(user_event(entities=entities, sentiment="negative"))
    assert found is not None
    assert (found.user_id, found.kind, found.intent) == (
        "o_fan",
        MESSAGE,
        "ask_product_info",
    )
    assert (found.category, found.sentiment, found.scene) == ("耳机", "negative", None)
    assert found.created_at == datetime(2026, 12, 1, 8, 0)


def test_the_catalog_normalises_categories_and_maps_products(catalog: Catalog) -> None:
    alias = [{"entity": "product_category", "value": "蓝牙耳机"}]
    assert record_from_event(user_event(entities=alias), catalog).category == "耳机"  # type: ignore[union-attr]
    product = [{"entity": "product", "value": "极光 X5 Pro"}]
    assert record_from_event(user_event(entities=product), catalog).category == "手机"  # type: ignore[union-attr]
    unknown = [{"entity": "product_category", "value": "飞船"}]
    assert record_from_event(user_event(entities=unknown), catalog).category is None  # type: ignore[union-attr]


EVENT = {"msg_type": "event"}
CASES = [
    ({**EVENT, "event": "subscribe", "scene": "store-sz"}, SUBSCRIBE, "store-sz", None),
    (
        {**EVENT, "event": "subscribe", "event_key": "qrscene_expo"},
        SUBSCRIBE,
        "expo",
        None,
    ),
    ({**EVENT, "event": "subscribe", "event_key": ""}, SUBSCRIBE, None, None),
    ({**EVENT, "event": "SCAN", "scene": "store-bj"}, SCAN, "store-bj", None),
    ({**EVENT, "event": "unsubscribe"}, UNSUBSCRIBE, None, None),
    ({**EVENT, "event": "CLICK", "event_key": "M_PROMO"}, MENU, None, "greet"),
    ({"msg_type": "voice"}, MESSAGE, None, "greet"),
]


@pytest.mark.parametrize(("wechat", "kind", "scene", "intent"), CASES)
def test_wechat_events_map_to_kinds(
    wechat: dict[str, Any], kind: str, scene: str | None, intent: str | None
) -> None:
    found = record_from_event(user_event(text="/greet", intent="greet", wechat=wechat))
    assert found is not None
    assert (found.kind, found.scene, found.intent) == (kind, scene, intent)


def test_other_events_and_other_channels() -> None:
    assert record_from_event({"event": "bot", "sender_id": "o_x", "text": "hi"}) is None
    assert record_from_event({"event": "user", "text": "hi"}) is None  # no sender
    rest = {"event": "user", "sender_id": "u1", "timestamp": TS, "parse_data": {}}
    found = record_from_event(rest)
    assert found is not None
    assert (found.kind, found.intent, found.sentiment) == (MESSAGE, None, None)


def test_event_ids_are_stable_and_distinct() -> None:
    first, again = record_from_event(user_event()), record_from_event(user_event())
    later = record_from_event(user_event(timestamp=TS + 1))
    assert first and again and later
    assert first.event_id == again.event_id != later.event_id


def test_a_deletion_request_is_recognised() -> None:
    bot = {"event": "bot", "sender_id": "o_x", "data": {"custom": ERASE_PAYLOAD}}
    assert erase_request_of(bot) == "o_x"
    assert erase_request_of({**bot, "data": {"custom": {"x": 1}}}) is None
    assert erase_request_of(user_event()) is None


def test_a_record_survives_the_queue_payload() -> None:
    found = record_from_event(
        user_event(entities=[{"entity": "product_category", "value": "耳机"}])
    )
    assert found is not None
    assert ActivityRecord.from_payload(found.to_payload()) == found


def activity_rows(store: MarketingStore) -> list[tuple[str, str]]:
    table = store.table("activity")
    with store.engine.connect() as connection:
        query = sa.select(table.c.event_id, table.c.user_id).order_by(table.c.event_id)
        return [(r[0], r[1]) for r in connection.execute(query)]


def test_records_are_written_in_the_background(
    marketing_db: MarketingStore, tmp_path: Path
) -> None:
    log = ActivityLog(lambda: marketing_db, DurableQueue(tmp_path / "q.db")).start()
    for n in range(3):
        log.add(record(n))
    log.add(record(0))  # the same event again: stored once
    assert log.flush()
    log.close()
    assert activity_rows(marketing_db) == [
        ("e0", "o_fan"),
        ("e1", "o_fan"),
        ("e2", "o_fan"),
    ]
    assert log.stats.written == 4 and log.stats.spilled == 0


def test_down_then_back_sets_aside_and_replays(
    marketing_db: MarketingStore, tmp_path: Path
) -> None:
    spill = DurableQueue(tmp_path / "q.db")
    up = {"now": False}

    def store() -> MarketingStore:
        return marketing_db if up["now"] else broken_store()

    name, labels = "aurora_database_fallbacks_total", {"kind": "activity"}
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    log = ActivityLog(store, spill, retry_after_s=0.05, flush_interval_s=0.05).start()
    log.add(record(1))
    log.add(record(2))
    assert log.flush()
    assert spill.pending(SPILLED) == 2
    assert REGISTRY.get_sample_value(name, labels) == before + 2
    assert activity_rows(marketing_db) == []
    up["now"] = True
    deadline = time.monotonic() + 10
    while spill.pending(SPILLED) and time.monotonic() < deadline:
        time.sleep(0.05)
    log.close()
    assert spill.pending(SPILLED) == 0
    assert activity_rows(marketing_db) == [("e1", "o_fan"), ("e2", "o_fan")]
    assert (log.stats.spilled, log.stats.replayed, log.stats.lost) == (2, 2, 0)


def test_a_full_buffer_sets_records_aside_at_once(tmp_path: Path) -> None:
    spill = DurableQueue(tmp_path / "q.db")
    log = ActivityLog(broken_store, spill, max_buffered=1)  # not started: never drains
    log.add(record(1))
    log.add(record(2))
    assert spill.pending(SPILLED) == 1
    assert spill.due(kind=SPILLED)[0].payload["event_id"] == "e2"


def test_records_of_an_earlier_process_are_replayed(
    marketing_db: MarketingStore, tmp_path: Path
) -> None:
    spill = DurableQueue(tmp_path / "q.db")
    spill.put_many(SPILLED, [(record(7).to_payload(), "o_fan")])
    log = ActivityLog(lambda: marketing_db, spill, flush_interval_s=0.05).start()
    deadline = time.monotonic() + 10
    while spill.pending(SPILLED) and time.monotonic() < deadline:
        time.sleep(0.05)
    log.close()
    assert activity_rows(marketing_db) == [("e7", "o_fan")]


def test_erasure_removes_written_and_set_aside_activity(
    marketing_db: MarketingStore, tmp_path: Path
) -> None:
    spill = DurableQueue(tmp_path / "q.db")
    up = {"now": True}

    def store() -> MarketingStore:
        return marketing_db if up["now"] else broken_store()

    log = ActivityLog(store, spill, retry_after_s=0.05, flush_interval_s=0.05).start()
    log.add(record(1, "o_gone"))
    log.add(record(2, "o_stays"))
    assert log.flush()
    up["now"] = False
    log.add(record(3, "o_gone"))
    log.erase_user("o_gone")
    assert log.flush()
    assert spill.pending(SPILLED) == 0  # its set-aside record went at once
    up["now"] = True
    deadline = time.monotonic() + 10
    while spill.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    log.close()
    assert activity_rows(marketing_db) == [("e2", "o_stays")]


def postgres_url(proxy: TcpProxy, database: str) -> str:
    return proxy.url_for("postgresql", f"/{database}", user="postgres")


def test_postgres_really_down_then_back(
    pg_proxy: TcpProxy, postgres_database: str, tmp_path: Path
) -> None:
    url = postgres_url(pg_proxy, postgres_database)
    lazy = LazyStore(url, retry_after_s=0.05)
    spill = DurableQueue(tmp_path / "q.db")
    log = ActivityLog(
        lazy, spill, on_hung=lazy.fail, write_timeout_s=2.0, retry_after_s=0.1,
        flush_interval_s=0.05,
    ).start()  # fmt: skip
    log.add(record(1))
    assert log.flush()
    pg_proxy.stop()
    for n in range(2, 6):
        log.add(record(n))
    assert log.flush()
    assert spill.pending(SPILLED) == 4
    pg_proxy.start()
    deadline = time.monotonic() + 20
    while spill.pending(SPILLED) and time.monotonic() < deadline:
        time.sleep(0.1)
    log.close()
    lazy.close()
    store = MarketingStore.from_url(
        f"postgresql://postgres@127.0.0.1:5432/{postgres_database}"
    )
    try:
        assert [e for e, _ in activity_rows(store)] == ["e1", "e2", "e3", "e4", "e5"]
    finally:
        store.engine.dispose()
    assert log.stats.lost == 0


def test_postgres_hung_counts_as_down_and_nothing_is_stored_twice(
    pg_proxy: TcpProxy, postgres_database: str, tmp_path: Path
) -> None:
    url = postgres_url(pg_proxy, postgres_database)
    lazy = LazyStore(url, retry_after_s=0.1)
    spill = DurableQueue(tmp_path / "q.db")
    log = ActivityLog(
        lazy, spill, on_hung=lazy.fail, write_timeout_s=0.5, retry_after_s=0.2,
        flush_interval_s=0.05,
    ).start()  # fmt: skip
    log.add(record(1))
    assert log.flush()  # connected, tables created
    pg_proxy.hang()
    log.add(record(2))
    log.add(record(3))
    assert log.flush(timeout_s=10)  # the hung write was given up, not waited for
    assert spill.pending(SPILLED) == 2
    pg_proxy.start()
    deadline = time.monotonic() + 20
    while spill.pending(SPILLED) and time.monotonic() < deadline:
        time.sleep(0.1)
    log.close()
    lazy.close()
    store = MarketingStore.from_url(
        f"postgresql://postgres@127.0.0.1:5432/{postgres_database}"
    )
    try:
        assert [e for e, _ in activity_rows(store)] == ["e1", "e2", "e3"]
    finally:
        store.engine.dispose()


def test_a_sender_id_too_long_for_the_column_records_nothing() -> None:
    # Not an openid (a REST sender): the row would fail every batch it is in.
    event = {**user_event(), "sender_id": "x" * (MAX_USER_ID + 1)}
    assert record_from_event(event) is None
    assert record_from_event({**event, "sender_id": "x" * MAX_USER_ID}) is not None
