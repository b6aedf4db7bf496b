"""Action server answers are judged as Rasa judges them, by a validator built once."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import channels
from channels import action_validation

VALID: dict[str, Any] = {
    "events": [{"event": "slot", "name": "sentiment", "value": "negative"}],
    "responses": [{"response": "utter_greet"}, {"text": "您好"}],
}
INVALID: list[dict[str, Any]] = [
    {"events": [{"event": "slot", "value": "negative"}]},  # a slot without a name
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [1]},
]


def _action() -> RemoteAction:
    return RemoteAction("action_set_sentiment", None)


def test_importing_channels_installs_it() -> None:
    assert channels.action_validation.installed()
    assert RemoteAction._validate_action_result is (
        action_validation.validate_action_result
    )
    action_validation.install()  # idempotent
    assert RemoteAction._validate_action_result is (
        action_validation.validate_action_result
    )


def test_the_validator_is_built_once() -> None:
    assert action_validation.response_validator() is (
        action_validation.response_validator()
    )


@pytest.mark.parametrize("result", [VALID, {}, {"events": [], "responses": []}])
def test_a_valid_answer_passes(result: dict[str, Any]) -> None:
    assert _action()._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_an_invalid_answer_raises_what_rasa_raises(result: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError) as rasa_way:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        _action()._validate_action_result(result)
    assert ours.value.message.startswith(rasa_way.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(rasa_way.value.path)
