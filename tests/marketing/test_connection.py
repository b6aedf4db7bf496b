from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from marketing.connection import LazyStore, StoreUnavailable
from marketing.store import MarketingStore

DOWN = "postgresql://postgres@127.0.0.1:9/x"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_failed_store_is_not_retried_until_the_pause_is_over() -> None:
    clock, attempts = Clock(), []

    def connect(url: str) -> MarketingStore:
        attempts.append(url)
        return MarketingStore.from_url(url)

    store = LazyStore(DOWN, retry_after_s=30, clock=clock, connect=connect)
    with pytest.raises(sa_exc.OperationalError):
        store()
    clock.now = 29.9
    with pytest.raises(StoreUnavailable):
        store()
    assert len(attempts) == 1
    clock.now = 30.0
    with pytest.raises(sa_exc.OperationalError):
        store()
    assert len(attempts) == 2


def test_the_store_is_connected_once_and_kept(tmp_path: Path) -> None:
    store = LazyStore(f"sqlite:///{tmp_path / 'ok.db'}")
    first = store()
    assert store() is first
    store.close()
    assert store() is not first
    store.close()


def test_a_bug_is_not_taken_for_a_database_that_is_down() -> None:
    def connect(url: str) -> MarketingStore:
        raise TypeError("a bug")

    store = LazyStore(DOWN, connect=connect)
    for _ in range(2):  # not remembered as a failed connection
        with pytest.raises(TypeError):
            store()


def test_each_connection_runs_on_connect_once(tmp_path: Path) -> None:
    seen: list[MarketingStore] = []
    store = LazyStore(f"sqlite:///{tmp_path / 'ok.db'}", on_connect=seen.append)
    first = store()
    store()
    assert seen == [first]
    store.close()
    assert seen == [first, store()]
    store.close()


def test_a_failed_connection_runs_no_on_connect() -> None:
    seen: list[MarketingStore] = []
    store = LazyStore(DOWN, on_connect=seen.append)
    with pytest.raises(sa_exc.OperationalError):
        store()
    assert seen == []


def test_a_timed_out_call_pauses_the_connected_store(tmp_path: Path) -> None:
    clock = Clock()
    store = LazyStore(f"sqlite:///{tmp_path / 'ok.db'}", retry_after_s=30, clock=clock)
    connected = store()
    store.fail()  # a call timed out: the database is hung
    with pytest.raises(StoreUnavailable):
        store()
    clock.now = 30.0
    assert store() is connected
    store.close()
