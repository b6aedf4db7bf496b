from __future__ import annotations

import logging

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.lead_form import ActionSubmitLead, ValidateLeadForm
from tests.actions.conftest import TrackerFactory


@pytest.mark.parametrize(
    ("reply", "stored"),
    [("我姓王", "王先生/女士"), ("叫我Amy就好", "Amy"), ("李晓燕", "李晓燕")],
)
def test_name_is_cleaned(
    reply: str,
    stored: str,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
) -> None:
    result = ValidateLeadForm().validate_contact_name(
        reply, dispatcher, make_tracker(reply), {}
    )
    assert result == {"contact_name": stored}
    assert dispatcher.messages == []


@pytest.mark.parametrize("reply", ["13812345678", "", "你们靠谱吗？", None, 42])
def test_unusable_name_is_asked_again(
    reply: object, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    result = ValidateLeadForm().validate_contact_name(
        reply, dispatcher, make_tracker(), {}
    )
    assert result == {"contact_name": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_contact_name"


def test_valid_mobile_is_normalised_and_logged_masked(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        result = ValidateLeadForm().validate_phone_number(
            "+86 138-1234-5678", dispatcher, make_tracker(), {}
        )
    assert result == {"phone_number": "13812345678"}
    assert "138****5678" in caplog.text
    assert "13812345678" not in caplog.text


@pytest.mark.parametrize(
    "reply", ["12345", "010-88886666", "不告诉你", "", None, ["13812345678"]]
)
def test_invalid_mobile_is_asked_again(
    reply: object, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    result = ValidateLeadForm().validate_phone_number(
        reply, dispatcher, make_tracker(), {}
    )
    assert result == {"phone_number": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_phone_number"


async def test_submitted_lead_is_logged_without_the_full_number(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker = make_tracker(
        slots={
            "contact_name": "王先生/女士",
            "phone_number": "13812345678",
            "callback_consent": True,
        }
    )
    with caplog.at_level(logging.INFO):
        events = await ActionSubmitLead().run(dispatcher, tracker, {})
    assert events[0] == SlotSet("phone_number", "138****5678")
    assert "138****5678" in caplog.text
    assert "13812345678" not in caplog.text


DOMAIN_SLOTS = ["contact_name", "callback_consent", "phone_number", "marketing_consent"]


@pytest.mark.parametrize(
    ("slots", "asked"),
    [
        ({}, DOMAIN_SLOTS),
        ({"callback_consent": True}, DOMAIN_SLOTS),
        ({"callback_consent": False}, ["contact_name", "callback_consent"]),
        ({"marketing_opt_out": True}, DOMAIN_SLOTS[:3]),
    ],
)
async def test_a_no_to_the_callback_or_an_opt_out_skips_questions(
    slots: dict[str, object],
    asked: list[str],
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
) -> None:
    required = await ValidateLeadForm().required_slots(
        DOMAIN_SLOTS, dispatcher, make_tracker(slots=slots), {}
    )
    assert required == asked


async def test_without_callback_consent_the_form_ends_and_drops_the_number(
    make_tracker: TrackerFactory,
) -> None:
    tracker = make_tracker(
        "不同意",
        "deny",
        slots={
            "contact_name": "王先生/女士",
            "phone_number": "13812345678",
            "callback_consent": False,
            "requested_slot": "callback_consent",
        },
    )
    tracker.events.append({"event": "slot", "name": "callback_consent", "value": False})
    domain = {"forms": {"lead_form": {"required_slots": DOMAIN_SLOTS}}}
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    assert SlotSet("phone_number", None) in events
    assert events[-1] == SlotSet("requested_slot", None)


def test_the_masked_number_of_an_earlier_lead_is_asked_again_quietly(
    dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    result = ValidateLeadForm().validate_phone_number(
        "138****5678", dispatcher, make_tracker(), {}
    )
    assert result == {"phone_number": None}
    assert dispatcher.messages == []
