"""docker-compose.yml: valid Compose, the production topology, settings from the env.

Two validators, neither needs Docker: check-jsonschema against the Compose
specification's schema, and Debian's docker-compose, which interpolates the
variables and resolves services, volumes and the override file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.contract import (
    ROOT,
    SECRET_NAME,
    action_server_variables,
    bot_variables,
    consumer_variables,
    sample_secrets,
    scheduler_variables,
)
from tests.deploy.validators import clean_environment, compose_v1, deploy_tool, run

COMPOSE = ROOT / "docker-compose.yml"
MOUNTED_MODEL = ROOT / "deploy" / "compose.model-mounted.yml"
EXAMPLE_ENV = ROOT / "deploy" / "compose.env.example"
BOTS = ("rasa-1", "rasa-2")
ACTION_SERVERS = ("actions-1", "actions-2")
REQUIRED = re.compile(r"\$\{([A-Z][A-Z0-9_]*):\?[^}]+\}")
# A secret that may stay unset (empty), never one written down.
OPTIONAL = re.compile(r"\$\{([A-Z][A-Z0-9_]*):-\}")


def services(path: Path = COMPOSE) -> dict[str, dict[str, Any]]:
    """The services as written (YAML merge keys applied, ``${}`` left as is)."""
    document: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    found: dict[str, dict[str, Any]] = document["services"]
    return found


def environment(service: str) -> dict[str, str]:
    found: dict[str, str] = services()[service]["environment"]
    return found


def resolved(*files: Path, env_file: Path = EXAMPLE_ENV) -> dict[str, Any]:
    """``docker-compose config`` of ``files`` with the variables of ``env_file``."""
    command: list[str | Path] = [compose_v1(), "--env-file", env_file]
    for file in files:
        command += ["-f", file]
    result = run([*command, "config"], env=clean_environment())
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


@pytest.mark.parametrize("path", [COMPOSE, MOUNTED_MODEL], ids=lambda p: p.name)
def test_the_files_follow_the_compose_specification(path: Path) -> None:
    checker = deploy_tool("check-jsonschema")
    result = run([checker, "--builtin-schema", "vendor.compose-spec", path])
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_resolves_the_file_with_the_example_settings() -> None:
    config = resolved(COMPOSE)
    assert set(config["services"]) == {
        "nginx",
        *BOTS,
        *ACTION_SERVERS,
        "consume-events",
        "scheduler",
        "postgres",
        "redis",
        "rabbitmq",
    }
    bot = config["services"]["rasa-1"]["environment"]
    assert bot["AURORA_PROFILE"] == "production"
    assert urlsplit(bot["RASA_TRACKER_STORE_URL"]).hostname == "postgres"


def test_the_override_mounts_a_model_into_an_image_built_without_one() -> None:
    config = resolved(COMPOSE, MOUNTED_MODEL)
    for name in BOTS:
        service = config["services"][name]
        assert service["build"]["args"] == {"MODEL_SOURCE": "mounted"}
        assert f"{ROOT / 'models'}:/app/models:ro" in service["volumes"]
    assert "args" not in resolved(COMPOSE)["services"]["rasa-1"]["build"]


def test_without_settings_compose_refuses_naming_a_secret(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("", encoding="utf-8")
    result = run(
        [compose_v1(), "--env-file", empty, "-f", COMPOSE, "config", "-q"],
        env=clean_environment(),
    )
    assert result.returncode != 0
    assert re.search(r"[A-Z_]*(TOKEN|SECRET|PASSWORD|KEY|APP_ID)", result.stderr)


def test_every_secret_comes_from_the_environment() -> None:
    text = COMPOSE.read_text("utf-8")
    for service in services().values():
        for name, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(name):
                value = str(value)
                assert REQUIRED.fullmatch(value) or OPTIONAL.fullmatch(value), name
    # URLs with passwords take them from required variables too.
    for url in re.findall(r"\w+://:?[^@\s]*@", text):
        assert REQUIRED.search(url), url
    assert not [n for n, v in sample_secrets().items() if v in text]
    example = dict(
        line.split("=", 1)
        for line in EXAMPLE_ENV.read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert set(example) == set(REQUIRED.findall(text))
    # The optional ones are named there too, with their defaults.
    described = EXAMPLE_ENV.read_text("utf-8")
    referenced = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    assert not [name for name in referenced if name not in described]
    assert not set(example.values()) & set(sample_secrets().values())


@pytest.mark.parametrize(
    ("names", "needed"),
    [
        (BOTS, bot_variables),
        (ACTION_SERVERS, action_server_variables),
        (("consume-events",), consumer_variables),
        (("scheduler",), scheduler_variables),
    ],
    ids=["bot", "actions", "consume-events", "scheduler"],
)
def test_every_process_gets_every_setting_it_reads(
    names: tuple[str, ...], needed: Any
) -> None:
    for name in names:
        missing = set(needed()) - set(environment(name))
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_the_workers_run_the_contracts_commands() -> None:
    assert services()["consume-events"]["command"] == [
        "aurora-marketing",
        "consume-events",
    ]
    command = services()["scheduler"]["command"]
    assert command[0] == "aurora-marketing"
    assert command[-1] == "scheduler"


def test_only_nginx_is_published_and_on_loopback_by_default() -> None:
    published = {n: s["ports"] for n, s in services().items() if "ports" in s}
    assert published == {"nginx": ["${AURORA_PUBLISH:-127.0.0.1:8080}:8080"]}
    # As docker-compose resolves it without AURORA_PUBLISH.
    ports = resolved(COMPOSE)["services"]["nginx"]["ports"]
    assert ports == ["127.0.0.1:8080:8080/tcp"]


def test_services_wait_for_healthy_dependencies_that_have_a_health_check() -> None:
    every = services()
    for name, service in every.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            check = every[dependency].get("healthcheck")
            assert check and not check.get("disable"), dependency
    for name in (*BOTS, *ACTION_SERVERS):
        assert name in every["nginx"]["depends_on"]


def test_each_replica_keeps_its_durable_queue_on_a_volume_of_its_own() -> None:
    owners: dict[str, str] = {}
    for name in (*BOTS, *ACTION_SERVERS):
        service = services()[name]
        [volume] = [v for v in service["volumes"] if v.endswith(":/app/.runtime")]
        source = volume.split(":")[0]
        assert source not in owners, (name, owners.get(source))
        owners[source] = name
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]


def test_the_databases_in_the_urls_are_created() -> None:
    postgres = services()["postgres"]
    created = {postgres["environment"]["POSTGRES_DB"]}
    for script in (ROOT / "deploy" / "postgres").glob("*.sql"):
        created |= set(re.findall(r"CREATE DATABASE (\w+)", script.read_text("utf-8")))
    mounted = "./deploy/postgres:/docker-entrypoint-initdb.d:ro"
    assert mounted in postgres["volumes"]
    config = resolved(COMPOSE)["services"]
    urls = [
        config["rasa-1"]["environment"]["RASA_TRACKER_STORE_URL"],
        config["actions-1"]["environment"]["AURORA_DATABASE_URL"],
    ]
    assert {urlsplit(url).path.lstrip("/") for url in urls} == created
