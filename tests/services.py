"""What a test does when a real service it needs (PostgreSQL, Redis) is down."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def service_unavailable(message: str) -> NoReturn:
    """A real service a test needs is down: fail under ``CI=true``, else skip.

    CI runs PostgreSQL, Redis and RabbitMQ; there a missing one is a broken
    setup, never a reason to pass. A laptop without them may skip.
    """
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: every service must run)")
    pytest.skip(message)
