"""Follow-ups marked on replies, logged against the impressions they follow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from marketing.followups import (
    FOLLOWUP_KEY,
    FOLLOWUP_WINDOW,
    Followup,
    followup_from_event,
    followup_marker,
    record_followups,
)
from marketing.store import CLICK, IMPRESSION, PURCHASE, Interaction, MarketingStore
from tests.marketing.rasa_events import bot_event, followup_event

AT = datetime(2026, 12, 1, 8, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MarketingStore]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_db")
        return
    sqlite = MarketingStore.from_url(f"sqlite:///{tmp_path / 'm.db'}")
    yield sqlite
    sqlite.engine.dispose()


def shown(item: str, trk: str, at: datetime, user: str = "o_fan") -> Interaction:
    return Interaction(
        user, item, IMPRESSION, "hybrid", "camp", trk, at, f"https://s/{item}"
    )


def record(store: MarketingStore, *followups: Followup) -> int:
    with store.engine.begin() as connection:
        return record_followups(connection, store, followups)


def events(store: MarketingStore, user: str = "o_fan") -> list[tuple[str, str, str]]:
    return [(i.event, i.item_id, str(i.tracking_id)) for i in store.history(user)]


def test_the_marker_round_trips_through_the_bot_event() -> None:
    assert followup_marker("p1", CLICK) == {
        FOLLOWUP_KEY: {"item_id": "p1", "event": CLICK}
    }
    found = followup_from_event(followup_event("p1", PURCHASE, "t1"))
    assert found == Followup("o_fan", "p1", PURCHASE, AT, "t1")
    assert Followup.from_payload(found.to_payload()) == found


@pytest.mark.parametrize(
    "marker",
    [
        None,
        "p1",
        {"item_id": "p1", "event": "impression"},
        {"item_id": "", "event": CLICK},
        {"item_id": 7, "event": CLICK},
        {"item_id": "p1", "event": CLICK, "tracking_id": 5},
        {"item_id": "p1", "event": CLICK, "tracking_id": "t" * 33},
    ],
)
def test_a_reply_without_a_usable_marker_is_no_followup(marker: object) -> None:
    assert followup_from_event(bot_event(metadata={FOLLOWUP_KEY: marker})) is None


def test_a_question_counts_once_against_the_latest_showing_in_the_window(
    store: MarketingStore,
) -> None:
    store.log(
        [
            shown("p1", "old", AT - FOLLOWUP_WINDOW - timedelta(minutes=1)),
            shown("p1", "t1", AT - timedelta(hours=2)),
            shown("p1", "t2", AT - timedelta(hours=1)),
            shown("p1", "later", AT + timedelta(minutes=5)),
        ]
    )
    click = Followup("o_fan", "p1", CLICK, AT)
    assert record(store, click, click) == 1
    assert record(store, click) == 0  # delivered again: nothing more
    clicks = [e for e in events(store) if e[0] == CLICK]
    assert clicks == [(CLICK, "p1", "t2")]


def test_nothing_is_logged_without_a_showing(store: MarketingStore) -> None:
    store.log([shown("p1", "t1", AT - FOLLOWUP_WINDOW - timedelta(hours=1))])
    store.log([shown("p2", "t2", AT - timedelta(hours=1), user="o_other")])
    assert record(store, Followup("o_fan", "p1", CLICK, AT)) == 0
    assert record(store, Followup("o_fan", "p2", CLICK, AT)) == 0
    assert [e[0] for e in events(store)] == [IMPRESSION]


def test_a_purchase_names_its_impression_which_must_be_the_followers(
    store: MarketingStore,
) -> None:
    store.log([shown("p1", "t1", AT - timedelta(hours=30))])
    store.log([shown("p1", "theirs", AT, user="o_other")])
    bought = Followup("o_fan", "p1", PURCHASE, AT, tracking_id="t1")
    assert record(store, bought) == 1
    assert events(store)[-1] == (PURCHASE, "p1", "t1")
    stolen = Followup("o_fan", "p1", PURCHASE, AT, tracking_id="theirs")
    assert record(store, stolen) == 0
    assert [e[0] for e in events(store, "o_other")] == [IMPRESSION]
