"""Checks the action server's answers with a validator built once, not per call.

Rasa 3.6's ``RemoteAction`` checks every answer of the action server against its
response schema with ``jsonschema.validate``, which first validates the schema
itself against JSON Schema's meta-schema and builds a new validator: on every
call, twice a turn here (``action_set_sentiment`` and the turn's action). That
check of a constant schema cost more of the Rasa process than the NLU encoder
(about a fifth of its event loop under load, ``make bench-webhook``). The
replacement checks the schema once and keeps the validator; an answer is judged
by the same rules (the same draft's validator, ``best_match`` error), and an
invalid one raises the same ``ValidationError`` with Rasa's hint appended.

Installed for the Rasa process by importing ``channels`` (``channels/__init__.py``).
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_original_validate: Any = None


@functools.lru_cache(maxsize=1)
def response_validator() -> Validator:
    """The validator of Rasa's action server response schema, checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(action: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the validator built once.

    Raises:
        jsonschema.ValidationError: ``result`` is no valid action server answer.
    """
    error = best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Makes every ``RemoteAction`` of this process use it; idempotent."""
    global _original_validate
    if _original_validate is not None:
        return
    _original_validate = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return _original_validate is not None
