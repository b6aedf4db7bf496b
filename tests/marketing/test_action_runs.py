"""Rasa's action events as rows of ``action_runs``."""

from __future__ import annotations

from datetime import datetime

from marketing.action_runs import MAX_ACTION, ActionRecord, action_from_event
from marketing.activity import MAX_USER_ID
from tests.marketing.rasa_events import TS, action_event, user_event


def test_an_action_event_gives_who_what_and_when() -> None:
    found = action_from_event(action_event("action_recommend_products"))
    assert found is not None
    assert (found.user_id, found.action, found.created_at) == (
        "o_fan",
        "action_recommend_products",
        datetime(2026, 12, 1, 8, 0),
    )
    assert ActionRecord.from_payload(found.to_payload()) == found


def test_rasa_bookkeeping_and_other_events_record_nothing() -> None:
    for name in ("action_listen", "action_extract_slots", None, ""):
        assert action_from_event(action_event(name)) is None  # type: ignore[arg-type]
    assert action_from_event(user_event()) is None
    assert action_from_event({**action_event("utter_greet"), "sender_id": None}) is None
    too_long = {**action_event("utter_greet"), "sender_id": "x" * (MAX_USER_ID + 1)}
    assert action_from_event(too_long) is None


def test_event_ids_tell_actions_apart_and_stay_stable() -> None:
    one = action_from_event(action_event("utter_greet"))
    again = action_from_event(action_event("utter_greet"))
    other = action_from_event(action_event("utter_goodbye"))
    later = action_from_event(action_event("utter_greet", timestamp=TS + 0.001))
    assert one and again and other and later
    assert one.event_id == again.event_id
    assert len({one.event_id, other.event_id, later.event_id}) == 3


def test_a_long_action_name_is_cut_to_the_column() -> None:
    found = action_from_event(action_event("utter_" + "x" * 100))
    assert found is not None and len(found.action) == MAX_ACTION
