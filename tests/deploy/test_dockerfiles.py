"""The images' Dockerfiles: linted, non-root, the pinned set, the contract's probes.

No image is built here (no registry for base images, no Docker daemon): hadolint
lints, dockerfile-parse reads the instructions, and the pinned set's CPU filter
is checked against torch's own metadata.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.contract import (
    ACTION_HEALTH,
    ACTION_PORT,
    BOT_PORT,
    READINESS,
    ROOT,
    SECRET_NAME,
    UID,
    sample_secrets,
)
from tests.deploy.validators import deploy_tool, run

DOCKER = ROOT / "deploy" / "docker"
BOT = DOCKER / "bot.Dockerfile"
ACTIONS = DOCKER / "actions.Dockerfile"
CUDA_FILTER = DOCKER / "torch-cuda-only.txt"
# Rasa 3.6 needs Python < 3.11.
BASE_IMAGE = "python:3.10-slim-bookworm"
PROBE_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/[^'\"]*)")

Instruction = dict[str, Any]


def instructions(path: Path) -> list[Instruction]:
    """The Dockerfile's instructions, comments left out."""
    structure: list[Instruction] = DockerfileParser(str(path)).structure
    return [i for i in structure if i["instruction"] != "COMMENT"]


def stages(path: Path) -> dict[str, list[Instruction]]:
    """Instructions by stage name (``AS name``), the FROM line first."""
    found: dict[str, list[Instruction]] = {}
    current: list[Instruction] = []
    for instruction in instructions(path):
        if instruction["instruction"] == "FROM":
            current = [instruction]
            found[instruction["value"].split()[-1]] = current
        else:
            current.append(instruction)
    return found


def final_stage(path: Path) -> list[Instruction]:
    return list(stages(path).values())[-1]


def values(stage: list[Instruction], kind: str) -> list[str]:
    return [str(i["value"]) for i in stage if i["instruction"] == kind]


@pytest.mark.parametrize("dockerfile", [BOT, ACTIONS], ids=lambda p: p.name)
def test_hadolint_finds_nothing(dockerfile: Path) -> None:
    result = run([deploy_tool("hadolint"), dockerfile])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", [BOT, ACTIONS], ids=lambda p: p.name)
def test_every_stage_starts_from_python_3_10_slim(dockerfile: Path) -> None:
    parser = DockerfileParser(str(dockerfile))
    named = set(stages(dockerfile))
    external = {image for image in parser.parent_images if image not in named}
    assert external == {BASE_IMAGE}
    assert f"PYTHON_IMAGE={BASE_IMAGE}" in values(instructions(dockerfile), "ARG")


@pytest.mark.parametrize("dockerfile", [BOT, ACTIONS], ids=lambda p: p.name)
def test_the_image_runs_as_an_unprivileged_user(dockerfile: Path) -> None:
    stage = final_stage(dockerfile)
    users = values(stage, "USER")
    # Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
    assert users[-1] == f"{UID}:{UID}"
    last_user = max(i for i, s in enumerate(stage) if s["instruction"] == "USER")
    assert all(s["instruction"] != "RUN" for s in stage[last_user:])
    assert f"--uid {UID}" in " ".join(values(stage, "RUN"))
    assert values(stage, "ENTRYPOINT") == ['["tini", "--"]']


@pytest.mark.parametrize("dockerfile", [BOT, ACTIONS], ids=lambda p: p.name)
def test_no_secret_is_baked_in(dockerfile: Path) -> None:
    for instruction in instructions(dockerfile):
        if instruction["instruction"] in ("ENV", "ARG"):
            names = re.findall(r"([A-Z][A-Z0-9_]*)=", instruction["value"])
            assert names, instruction
            assert not [n for n in names if SECRET_NAME.search(n)], instruction
    text = dockerfile.read_text("utf-8")
    samples = sample_secrets()
    assert len(samples) >= 5
    assert not [name for name, value in samples.items() if value in text]


def test_both_images_install_the_pinned_set_in_one_identical_stage() -> None:
    bot, actions = stages(BOT)["python-deps"], stages(ACTIONS)["python-deps"]
    assert [i["content"] for i in bot] == [i["content"] for i in actions]
    copied = values(bot, "COPY")
    assert "requirements.txt deploy/docker/torch-cuda-only.txt ./" in copied
    [install] = values(bot, "RUN")
    # The torch pin comes from requirements.txt; the set is installed from it
    # (filtered for CPU) and checked for consistency.
    assert "grep -v -E -f torch-cuda-only.txt requirements.txt" in install
    assert "\"$(grep -E '^torch==' requirements.txt)\"" in install
    assert "pip install --no-cache-dir -r requirements.image.txt" in install
    assert install.endswith("/opt/venv/bin/pip check")
    assert "==" not in install.replace("'^torch=='", "")  # no pin of its own


def pinned() -> dict[str, str]:
    """requirements.txt: canonical name -> line."""
    lines = (ROOT / "requirements.txt").read_text("utf-8").splitlines()
    return {
        canonicalize_name(Requirement(line).name): line
        for line in lines
        if line and not line.startswith("#")
    }


def linux_only_closure(package: str) -> set[str]:
    """What ``package`` needs on Linux only (its CUDA runtime), transitively."""
    found: set[str] = set()
    pending = [
        Requirement(text)
        for text in importlib.metadata.requires(package) or []
        if "platform_system" in text
    ]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        extras = requirement.extras or {""}
        for text in importlib.metadata.requires(name) or []:
            needed = Requirement(text)
            marker = needed.marker
            if marker is None or any(
                marker.evaluate({"extra": extra}) for extra in extras
            ):
                pending.append(needed)
    return found


def test_the_cpu_build_leaves_out_exactly_torchs_cuda_runtime() -> None:
    patterns = [re.compile(p) for p in CUDA_FILTER.read_text("utf-8").split()]
    removed = {
        name
        for name, line in pinned().items()
        if any(pattern.search(line) for pattern in patterns)
    }
    assert removed == linux_only_closure("torch") & set(pinned())
    # Nothing kept needs a package that was left out, so `pip check` passes.
    for name in set(pinned()) - removed - {"torch"}:
        for text in importlib.metadata.requires(name) or []:
            needed = Requirement(text)
            if needed.marker is None or needed.marker.evaluate({"extra": ""}):
                assert canonicalize_name(needed.name) not in removed, (name, text)


@pytest.mark.parametrize(
    ("dockerfile", "port", "path", "listen"),
    [
        (BOT, BOT_PORT, READINESS, "-i 0.0.0.0"),
        (ACTIONS, ACTION_PORT, ACTION_HEALTH, "--host 0.0.0.0"),
    ],
    ids=["bot", "actions"],
)
def test_the_health_check_probes_the_contracts_route_on_the_served_port(
    dockerfile: Path, port: int, path: str, listen: str
) -> None:
    stage = final_stage(dockerfile)
    [healthcheck] = values(stage, "HEALTHCHECK")
    assert PROBE_URL.findall(healthcheck) == [(str(port), path)]
    assert values(stage, "EXPOSE") == [str(port)]
    [command] = values(stage, "CMD")
    words = " ".join(re.findall(r'"([^"]*)"', command))
    assert listen in words
    assert f"--port {port}" in words


def test_the_bot_image_takes_a_trained_or_a_mounted_model() -> None:
    named = stages(BOT)
    assert "MODEL_SOURCE=trained" in values(instructions(BOT), "ARG")
    [train] = values(named["model-trained"], "RUN")
    assert "python -m tools.assets" in train
    assert "rasa train --config config.yml --domain domain.yml --data data" in train
    assert values(named["model-mounted"], "RUN") == ["mkdir -p /app/models"]
    assert "--from=model /app/models /app/models" in values(named["runtime"], "COPY")


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text("utf-8").split())
    for entry in (".git", ".venv", "models", ".assets", ".runtime", "results"):
        assert entry in ignored
    for entry in ("**/.env", "**/*.env", "**/__pycache__", ".mypy_cache", "tests"):
        assert entry in ignored
