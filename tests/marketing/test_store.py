"""The SQL store against a SQLite file and the real PostgreSQL on 127.0.0.1."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketing.store import (
    CLICK,
    CONNECT_TIMEOUT_S,
    IMPRESSION,
    PURCHASE,
    Interaction,
    Lead,
    MarketingStore,
    connect_args,
)
from tests.services import service_unavailable

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 11, 22, 10, 0)


def _postgres_store() -> Iterator[MarketingStore]:
    engine = sa.create_engine(POSTGRES_URL, future=True)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as e:
        service_unavailable(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {e}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        store = MarketingStore(engine, schema=schema, clock=lambda: T0)
        store.create_tables()
        yield store
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MarketingStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sub' / 'm.db'}"
        sqlite = MarketingStore.from_url(url, clock=lambda: T0)
        yield sqlite
        sqlite.engine.dispose()
    else:
        yield from _postgres_store()


def _impression(user: str, item: str, trk: str, variant: str = "hybrid") -> Interaction:
    return Interaction(
        user_id=user,
        item_id=item,
        event=IMPRESSION,
        variant=variant,
        campaign="camp-a",
        tracking_id=trk,
        created_at=T0,
        target_url=f"https://shop.example/p/{item}",
    )


def test_impressions_clicks_and_purchases(store: MarketingStore) -> None:
    store.log([_impression("u1", "p1", "t1"), _impression("u1", "p2", "t2")])
    clicked = store.record_event("t2", CLICK)
    assert clicked is not None and clicked.item_id == "p2"
    assert clicked.target_url == "https://shop.example/p/p2"
    assert store.record_event("t2", PURCHASE) is not None
    assert store.record_event("unknown", CLICK) is None
    events = [(i.item_id, i.event) for i in store.history("u1")]
    assert events == [
        ("p1", IMPRESSION),
        ("p2", IMPRESSION),
        ("p2", CLICK),
        ("p2", PURCHASE),
    ]
    assert {(i.item_id, i.event) for i in store.feedback()} == {
        ("p2", CLICK),
        ("p2", PURCHASE),
    }
    counts = {(c, v, e): n for c, v, e, n in store.effect_counts()}
    assert counts == {
        ("camp-a", "hybrid", IMPRESSION): 2,
        ("camp-a", "hybrid", CLICK): 1,
        ("camp-a", "hybrid", PURCHASE): 1,
    }


def test_history_since_a_time(store: MarketingStore) -> None:
    store.log([_impression("u1", "p1", "t1")])
    assert store.history("u1", since=datetime(2026, 11, 23)) == []
    assert len(store.history("u1", since=T0)) == 1


def test_opt_out_is_stored_once(store: MarketingStore) -> None:
    assert not store.is_opted_out("u1")
    store.opt_out("u1")
    store.opt_out("u1")
    assert store.is_opted_out("u1") and not store.is_opted_out("u2")


def test_campaign_sign_up_is_idempotent(store: MarketingStore) -> None:
    assert store.join_campaign("u1", "camp-a") is True
    assert store.join_campaign("u1", "camp-a") is False
    assert store.join_campaign("u2", "camp-a") is True
    assert store.campaigns_of("u1") == {"camp-a"}


def test_leads_keep_consent_and_score(store: MarketingStore) -> None:
    lead = Lead("u1", "王先生", "13812345678", True, False, 0.7, "camp-a")
    store.add_lead(lead)
    assert store.leads("u1") == [lead]


def test_unreachable_postgresql_is_a_database_error() -> None:
    with pytest.raises(sa.exc.OperationalError):
        MarketingStore.from_url("postgresql://postgres@127.0.0.1:9/nothing")


def test_postgresql_connections_time_out_in_seconds() -> None:
    assert connect_args("postgresql://postgres@10.255.255.1/x") == {
        "connect_timeout": CONNECT_TIMEOUT_S
    }
    assert CONNECT_TIMEOUT_S <= 5
    assert connect_args("sqlite:///:memory:") == {}
