"""The event broker of endpoints.yml records follower activity from real Rasa events."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from channels.activity_broker import ActivityBroker
from marketing.store import MarketingStore
from privacy.erasure import ERASE_PAYLOAD
from tools.bot_servers import dev_environment

ROOT = Path(__file__).resolve().parents[2]
BROKER = "channels.activity_broker.ActivityBroker"


def rows(store: MarketingStore) -> list[tuple[str, str, str | None, str | None]]:
    table = store.table("activity")
    query = sa.select(
        table.c.user_id, table.c.kind, table.c.intent, table.c.category
    ).order_by(table.c.created_at)
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(query)]  # type: ignore[misc]


def wechat(openid: str, **fields: str) -> dict[str, dict[str, str]]:
    return {"wechat": {"openid": openid, "msg_type": "text", **fields}}


def test_endpoints_yml_names_the_broker_of_the_single_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in dev_environment().items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "event_broker")
    assert config is not None and config.type == BROKER
    raw = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    assert raw["event_broker"]["type"] == "${RASA_EVENT_BROKER}"


async def test_rasa_loads_it_and_a_saved_tracker_lands_in_the_store(
    marketing_db: MarketingStore,
) -> None:
    broker = await EventBroker.create(EndpointConfig(type=BROKER))
    assert isinstance(broker, ActivityBroker) and broker.is_ready()
    tracker_store = InMemoryTrackerStore(Domain.empty(), event_broker=broker)
    subscribe = wechat("o_fan", msg_type="event", event="subscribe", scene="store-sz")
    tracker = DialogueStateTracker.from_events(
        "o_fan",
        [
            UserUttered("/greet", intent={"name": "greet"}, metadata=subscribe),
            ActionExecuted("utter_greet"),
            BotUttered("欢迎"),
            UserUttered(
                "有蓝牙耳机吗",
                intent={"name": "ask_product_info", "confidence": 0.9},
                entities=[{"entity": "product_category", "value": "蓝牙耳机"}],
                parse_data={
                    "intent": {"name": "ask_product_info", "confidence": 0.9},
                    "entities": [{"entity": "product_category", "value": "蓝牙耳机"}],
                    "sentiment": {"name": "negative", "confidence": 0.7},
                },
                metadata=wechat("o_fan"),
            ),
        ],
    )
    await tracker_store.save(tracker)
    await broker.close()
    assert rows(marketing_db) == [
        ("o_fan", "subscribe", None, None),
        ("o_fan", "message", "ask_product_info", "耳机"),
    ]
    table = marketing_db.table("activity")
    with marketing_db.engine.connect() as connection:
        found = connection.execute(sa.select(table.c.scene, table.c.sentiment)).all()
    assert sorted(found, key=str) == sorted(
        [("store-sz", None), (None, "negative")], key=str
    )


async def test_the_deletion_request_erases_its_own_message(
    marketing_db: MarketingStore,
) -> None:
    broker = await EventBroker.create(EndpointConfig(type=BROKER))
    tracker_store = InMemoryTrackerStore(Domain.empty(), event_broker=broker)
    events = [
        UserUttered("你好", intent={"name": "greet"}, metadata=wechat("o_other")),
    ]
    await tracker_store.save(DialogueStateTracker.from_events("o_other", events))
    tracker = DialogueStateTracker.from_events(
        "o_gone",
        [
            UserUttered("删除我的数据", intent={"name": "delete_my_data"}),
            ActionExecuted("action_delete_my_data"),
            BotUttered(data={"custom": ERASE_PAYLOAD}),
        ],
    )
    await tracker_store.save(tracker)
    await broker.close()
    assert [r[0] for r in rows(marketing_db)] == ["o_other"]


async def test_a_broken_event_does_not_fail_the_turn(
    marketing_db: MarketingStore,
) -> None:
    broker = await EventBroker.create(EndpointConfig(type=BROKER))
    assert broker is not None
    broker.publish({"event": "user", "sender_id": "o_x", "timestamp": "not a time"})
    broker.publish({"event": "user", "sender_id": "o_y", "timestamp": {"bad": 1}})
    await broker.close()
    assert {r[0] for r in rows(marketing_db)} == {"o_x", "o_y"}
