from __future__ import annotations

import logging

import pytest
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
        slots={"contact_name": "王先生/女士", "phone_number": "13812345678"}
    )
    with caplog.at_level(logging.INFO):
        events = await ActionSubmitLead().run(dispatcher, tracker, {})
    assert events == []
    assert "138****5678" in caplog.text
    assert "13812345678" not in caplog.text
