"""The cluster launcher's parts that need no model: profile, nginx config, databases."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from channels.redis_lock_store import ReplicatedRedisLockStore
from tests.services import service_unavailable
from tools.bot_servers import StartupError, dev_environment
from tools.cluster import (
    ClusterPorts,
    cluster_environment,
    ensure_databases,
    nginx_binary,
    nginx_config,
)
from tools.scratch_database import ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]


def endpoint(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], name: str
) -> EndpointConfig:
    """Section ``name`` of endpoints.yml as Rasa reads it in ``environment``."""
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), name)
    assert config is not None
    return config


def test_one_endpoints_file_serves_both_profiles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    single, cluster = dev_environment(), cluster_environment({})
    locks = LockStore.create(endpoint(monkeypatch, single, "lock_store"))
    assert isinstance(locks, InMemoryLockStore)
    assert endpoint(monkeypatch, single, "tracker_store").url == (
        "sqlite:///.runtime/trackers.db"
    )
    locks = LockStore.create(endpoint(monkeypatch, cluster, "lock_store"))
    assert isinstance(locks, ReplicatedRedisLockStore)
    trackers = endpoint(monkeypatch, cluster, "tracker_store")
    assert str(trackers.url).startswith("postgresql://")
    broker = endpoint(monkeypatch, cluster, "event_broker")
    assert broker.type == "pika"
    assert broker.kwargs["queues"] == ["aurora_events"]
    action = endpoint(monkeypatch, cluster, "action_endpoint")
    assert action.url == "http://127.0.0.1:8055/webhook"


def test_the_cluster_profile_wins_over_the_single_process_samples() -> None:
    environment = cluster_environment({"WECHAT_STORE": "memory", "PATH": "/bin"})
    assert environment["WECHAT_STORE"].startswith("redis://")
    assert environment["PATH"] == "/bin"
    assert environment["WECHAT_TOKEN"] == dev_environment()["WECHAT_TOKEN"]


def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    try:
        nginx = nginx_binary()
    except StartupError as e:
        service_unavailable(str(e))
    ports = ClusterPorts(webhook=18080, actions=18055, rasa=(15005, 15006),
                         action_servers=(15055, 15056))  # fmt: skip
    (tmp_path / "tmp").mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(ports, tmp_path), encoding="utf-8")
    text = config.read_text(encoding="utf-8")
    assert "listen 127.0.0.1:18080;" in text and "server 127.0.0.1:15006" in text
    assert "0.0.0.0" not in text
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_missing_databases_are_created_once(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = "aurora_cluster_test_db"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    except sa.exc.OperationalError as e:
        service_unavailable(f"PostgreSQL on 127.0.0.1:5432 is not reachable ({e})")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        for _ in range(2):
            ensure_databases({"RASA_TRACKER_STORE_URL": url, "AURORA_DATABASE_URL": ""})
        with admin.connect() as connection:
            found = connection.execute(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"),
                {"n": name},
            ).scalar()
        assert found == 1
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_an_unreachable_database_is_a_clear_startup_error() -> None:
    with pytest.raises(StartupError, match="RASA_TRACKER_STORE_URL"):
        ensure_databases(
            {"RASA_TRACKER_STORE_URL": "postgresql://postgres@127.0.0.1:1/aurora"}
        )
