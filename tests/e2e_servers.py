"""The trained bot for the ``e2e`` tests (``tools.bot_servers``), failing as a test.

A server that does not come up fails the test with the log folder named; the rest
is ``tools.bot_servers``, shared with ``benchmarks/fault_matrix.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tools import bot_servers
from tools.bot_servers import (
    api_url,
    bot_environment,
    dev_environment,
    free_port,
    marketing_url,
)
from tools.wechat_sim.console import load_credentials

__all__ = [
    "api_url",
    "bot_environment",
    "dev_credentials",
    "dev_environment",
    "free_port",
    "marketing_url",
    "running_bot",
]


def dev_credentials(path: Path) -> dict[str, Any]:
    """The WeChat section of a credentials file, read in :func:`bot_environment`."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in bot_environment().items():
            patch.setenv(name, value)
        return load_credentials(path)


@contextmanager
def running_bot(
    folder: Path,
    credentials: Path,
    model: Path,
    name: str,
    ready_path: str,
    **options: Any,
) -> Iterator[str]:
    """``tools.bot_servers.running_bot``; a server that cannot start fails the test.

    ``options``: the keyword arguments of ``tools.bot_servers.running_bot``.
    """
    try:
        with bot_servers.running_bot(
            folder, credentials, model, name, ready_path, **options
        ) as base:
            yield base
    except bot_servers.StartupError as e:
        pytest.fail(str(e))
