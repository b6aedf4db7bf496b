"""The SQL store against a SQLite file and the real PostgreSQL on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import MetaData
from sqlalchemy.exc import OperationalError

from marketing.leads import Lead, seal
from marketing.store import (
    CLICK,
    CONNECT_TIMEOUT_S,
    IMPRESSION,
    PURCHASE,
    Interaction,
    MarketingStore,
    connect_args,
)
from marketing.suppression import user_digest
from privacy.cipher import CipherError, DataCipher, generate_key
from tests.marketing.fixtures import T0, rows_of


@pytest.fixture(params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, cipher: DataCipher
) -> Iterator[MarketingStore]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_db")
        return
    url = f"sqlite:///{tmp_path / 'sub' / 'm.db'}"
    sqlite = MarketingStore.from_url(url, clock=lambda: T0, cipher=cipher)
    yield sqlite
    sqlite.engine.dispose()


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


def test_leads_keep_consent_and_score(
    store: MarketingStore, cipher: DataCipher
) -> None:
    lead = Lead(
        "u1", "王先生", "13812345678", True, False, 0.7, "camp-a", T0, T0, ref="r1"
    )
    assert store.add_lead(seal(lead, cipher, T0)) is True
    assert store.add_lead(seal(lead, cipher, T0)) is False  # once, by its ref
    assert store.leads("u1") == [lead]


def test_the_leads_table_holds_no_number_in_clear(
    store: MarketingStore, cipher: DataCipher
) -> None:
    store.add_lead(seal(Lead("u1", "王", "13812345678", True, True, 0.5), cipher, T0))
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(store.metadata.tables[_leads(store)])).all()
    assert "13812345678" not in repr(rows)
    assert "138****5678" in repr(rows)


def test_leads_cannot_be_read_without_the_key(store: MarketingStore) -> None:
    other = DataCipher(generate_key())
    store.add_lead(seal(Lead("u1", "王", "13812345678", True, True, 0.5), other, T0))
    with pytest.raises(CipherError):
        store.leads("u1")
    keyless = MarketingStore(store.engine, schema=store.metadata.schema)
    with pytest.raises(CipherError):
        keyless.leads("u1")


def test_erase_user_leaves_nothing_of_the_customer(
    store: MarketingStore, cipher: DataCipher
) -> None:
    for user in ("u1", "u2"):
        store.log([_impression(user, "p1", f"t-{user}")])
        store.record_event(f"t-{user}", CLICK)
        store.add_lead(
            seal(Lead(user, "王", "13812345678", True, True, 0.5), cipher, T0)
        )
        store.opt_out(user)
        store.join_campaign(user, "camp-a")
    counts = store.erase_user("u1")
    assert {table: n for table, n in counts.items() if n} == {
        "interactions": 2,
        "leads": 1,
        "opt_outs": 1,
        "campaign_signups": 1,
    }
    assert "campaign_runs" not in counts  # no personal data in it
    assert rows_of(store, "u1") == {}
    assert set(rows_of(store, "u2")) == {table for table, n in counts.items() if n}
    assert store.erase_user("u1") == dict.fromkeys(counts, 0)


def test_purge_before_deletes_only_older_marketing_events(
    store: MarketingStore, cipher: DataCipher
) -> None:
    old, new = T0 - timedelta(days=400), T0 - timedelta(days=10)
    store.log([replace(_impression("u1", "p1", "t1"), created_at=old)])
    store.log([replace(_impression("u1", "p2", "t2"), created_at=new)])
    store.add_lead(seal(Lead("u1", "王", "13812345678", True, True, 0.5), cipher, old))
    activity = [
        {"user_id": "u1", "kind": "message", "intent": "greet", "created_at": when}
        for when in (old, new)
    ]
    with store.engine.begin() as connection:
        connection.execute(store.table("activity").insert(), activity)
    assert store.purge_before(T0 - timedelta(days=365)) == {
        "interactions": 1,
        "activity": 1,
        "action_runs": 0,
    }
    assert [i.item_id for i in store.history("u1")] == ["p2"]
    assert len(store.leads("u1")) == 1


def _leads(store: MarketingStore) -> str:
    schema = store.metadata.schema
    return f"{schema}.leads" if schema else "leads"


def test_unreachable_postgresql_is_a_database_error() -> None:
    with pytest.raises(sa.exc.OperationalError):
        MarketingStore.from_url("postgresql://postgres@127.0.0.1:9/nothing")


def test_postgresql_connections_time_out_in_seconds() -> None:
    assert connect_args("postgresql://postgres@10.255.255.1/x") == {
        "connect_timeout": CONNECT_TIMEOUT_S
    }
    assert CONNECT_TIMEOUT_S <= 5
    assert connect_args("sqlite:///:memory:") == {}


def test_an_erased_opt_out_leaves_only_a_digest_that_still_says_no(
    store: MarketingStore,
) -> None:
    store.opt_out("o_said_no")
    store.log([_impression("o_said_no", "p1", "t-no")])
    store.log([_impression("o_never_asked", "p1", "t-ok")])
    store.erase_user("o_said_no")
    store.erase_user("o_never_asked")
    assert rows_of(store, "o_said_no") == {}
    # The no survives as a digest, without the openid; a follower who never
    # opted out leaves nothing at all.
    with store.engine.connect() as connection:
        digests = [
            r[0] for r in connection.execute(store.table("suppressions").select())
        ]
    assert digests == [user_digest("o_said_no")]
    assert "o_said_no" not in digests[0]
    assert store.is_opted_out("o_said_no")
    assert not store.is_opted_out("o_never_asked")
    store.erase_user("o_said_no")  # erasing again keeps one digest
    with store.engine.connect() as connection:
        assert connection.execute(store.table("suppressions").select()).all() != []


def test_a_table_created_by_another_process_meanwhile_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two processes opening a new store race between the check and the CREATE.
    real = MetaData.create_all
    calls = []

    def racing(self: MetaData, bind: Any, **kw: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            real(self, bind, **kw)  # "the other process" creates the tables
            raise OperationalError("CREATE TABLE activity", {}, Exception("exists"))
        real(self, bind, **kw)

    monkeypatch.setattr(MetaData, "create_all", racing)
    store = MarketingStore.from_url(f"sqlite:///{tmp_path / 'race.db'}")
    assert len(calls) == 2 and not store.is_opted_out("o1")
