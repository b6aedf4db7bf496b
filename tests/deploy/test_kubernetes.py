"""deploy/kubernetes/: valid API objects, the contract's probes, settings, no root.

kubernetes-validate checks every object against the Kubernetes API schemas it
bundles (strict: an unknown field is an error), for the oldest and the newest
release these examples claim; ``kubectl kustomize`` renders the kustomization
where kubectl is installed. No cluster is needed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.contract import (
    ACTION_HEALTH,
    ACTION_METRICS,
    ACTION_PORT,
    BOT_METRICS,
    BOT_PORT,
    LIVENESS,
    PUBLIC_PATHS,
    READINESS,
    ROOT,
    UID,
    action_server_variables,
    bot_variables,
    consumer_variables,
    sample_secrets,
    scheduler_variables,
)
from tests.deploy.validators import deploy_tool, run

MANIFESTS = ROOT / "deploy" / "kubernetes"
KUSTOMIZATION = MANIFESTS / "kustomization.yaml"
SECRET_EXAMPLE = MANIFESTS / "secret.example.yaml"
# Kubernetes releases the examples are checked against (oldest, newest bundled).
VERSIONS = ("1.29.0", "1.37.0")
WORKLOADS = ("StatefulSet", "Deployment")
WRITABLE = {"/tmp", "/home/aurora", "/app/.runtime"}

Object = dict[str, Any]


def manifest_files() -> list[Path]:
    return sorted(p for p in MANIFESTS.glob("*.yaml") if p != KUSTOMIZATION)


def objects(paths: list[Path] | None = None) -> Iterator[Object]:
    for path in paths or manifest_files():
        for document in yaml.safe_load_all(path.read_text("utf-8")):
            if document:
                yield document


def named(kind: str, name: str) -> Object:
    [found] = [
        o for o in objects() if o["kind"] == kind and o["metadata"]["name"] == name
    ]
    return found


def pod(workload: str) -> dict[str, Any]:
    [found] = [
        o["spec"]["template"]["spec"]
        for o in objects()
        if o["kind"] in WORKLOADS and o["metadata"]["name"] == workload
    ]
    spec: dict[str, Any] = found
    return spec


def container(workload: str) -> dict[str, Any]:
    [found] = pod(workload)["containers"]
    spec: dict[str, Any] = found
    return spec


def settings(workload: str) -> set[str]:
    """The variables a workload's container gets (ConfigMaps and env)."""
    spec = container(workload)
    names = {variable["name"] for variable in spec.get("env", [])}
    for source in spec.get("envFrom", []):
        names |= set(named("ConfigMap", source["configMapRef"]["name"])["data"])
    return names


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_for_kubernetes(version: str) -> None:
    validator = deploy_tool("kubernetes-validate")
    result = run([validator, "--strict", "-k", version, *manifest_files()])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


def test_kustomize_renders_every_manifest_but_the_secret_example(
    tmp_path: Path,
) -> None:
    listed = yaml.safe_load(KUSTOMIZATION.read_text("utf-8"))["resources"]
    assert sorted(listed) == sorted(
        p.name for p in manifest_files() if p != SECRET_EXAMPLE
    )
    kubectl = shutil.which("kubectl")
    if kubectl is None:  # not installable by the Makefile; the schemas still run
        pytest.skip("kubectl is not installed: the kustomization is not rendered")
    result = run([kubectl, "kustomize", MANIFESTS])
    assert result.returncode == 0, result.stderr
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(result.stdout, encoding="utf-8")
    validator = deploy_tool("kubernetes-validate")
    checked = run([validator, "--strict", "-k", VERSIONS[-1], rendered])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    namespaces = {o["metadata"].get("namespace") for o in objects([rendered])}
    assert namespaces == {"aurora", None}  # None: the Namespace itself


def probe(workload: str, kind: str) -> tuple[str, int]:
    spec = container(workload)
    get = spec[kind]["httpGet"]
    [port] = [p["containerPort"] for p in spec["ports"] if p["name"] == get["port"]]
    return get["path"], port


def test_the_bots_probes_are_the_contracts_routes() -> None:
    assert probe("aurora-bot", "readinessProbe") == (READINESS, BOT_PORT)
    assert probe("aurora-bot", "livenessProbe") == (LIVENESS, BOT_PORT)
    assert probe("aurora-bot", "startupProbe") == (LIVENESS, BOT_PORT)
    args = " ".join(container("aurora-bot")["args"])
    # Inside a pod Rasa must listen beyond loopback.
    assert f"-i 0.0.0.0 --port {BOT_PORT}" in args


def test_the_action_servers_probes_are_rasa_sdks_health_check() -> None:
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert probe("aurora-actions", kind) == (ACTION_HEALTH, ACTION_PORT)
    assert "--host 0.0.0.0" in " ".join(container("aurora-actions")["args"])


def test_prometheus_scrapes_the_metrics_routes() -> None:
    for workload, path, port in (
        ("aurora-bot", BOT_METRICS, BOT_PORT),
        ("aurora-actions", ACTION_METRICS, ACTION_PORT),
    ):
        [template] = [
            o["spec"]["template"]
            for o in objects()
            if o["metadata"]["name"] == workload and o["kind"] in WORKLOADS
        ]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/path"] == path
        assert annotations["prometheus.io/port"] == str(port)


@pytest.mark.parametrize(
    ("workload", "needed"),
    [
        ("aurora-bot", bot_variables),
        ("aurora-actions", action_server_variables),
        ("aurora-consume-events", consumer_variables),
        ("aurora-scheduler", scheduler_variables),
    ],
)
def test_every_workload_gets_every_setting_it_reads(workload: str, needed: Any) -> None:
    missing = set(needed()) - settings(workload)
    assert not missing, f"{workload} lacks {sorted(missing)}"


def test_secrets_come_from_the_secret_and_it_has_every_key() -> None:
    [secret] = objects([SECRET_EXAMPLE])
    keys = set(secret["stringData"])
    used: set[str] = set()
    for o in objects():
        if o["kind"] in WORKLOADS:
            for variable in container(o["metadata"]["name"]).get("env", []):
                reference = variable["valueFrom"]["secretKeyRef"]
                assert reference["name"] == secret["metadata"]["name"]
                used.add(reference["key"])
    assert used == keys
    config = named("ConfigMap", "aurora-config")["data"]
    assert not set(config) & keys
    everything = "".join(p.read_text("utf-8") for p in manifest_files())
    assert not [n for n, v in sample_secrets().items() if v in everything]


def test_rasa_reaches_the_action_servers_through_their_service() -> None:
    url = urlsplit(named("ConfigMap", "aurora-config")["data"]["AURORA_ACTION_URL"])
    service = named("Service", str(url.hostname))
    assert [p["port"] for p in service["spec"]["ports"]] == [url.port]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "aurora-actions"}
    assert url.path == "/webhook"


def test_every_pod_runs_unprivileged_on_a_read_only_root() -> None:
    for o in objects():
        if o["kind"] not in WORKLOADS:
            continue
        name = o["metadata"]["name"]
        security = pod(name)["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["runAsUser"] == UID  # the images' USER
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        spec = container(name)
        assert spec["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        mounted = {mount["mountPath"] for mount in spec["volumeMounts"]}
        assert mounted >= WRITABLE, name
        assert pod(name)["automountServiceAccountToken"] is False


def test_the_ingress_publishes_the_webhook_and_liveness_only() -> None:
    ingress = named("Ingress", "aurora-wechat")
    paths = [
        path for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]
    ]
    assert {p["path"] for p in paths} == PUBLIC_PATHS
    assert {p["pathType"] for p in paths} == {"Exact"}
    assert {p["backend"]["service"]["name"] for p in paths} == {"aurora-bot"}
    annotations = ingress["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert annotations[prefix + "upstream-hash-by"] == "$arg_openid"
    retried = annotations[prefix + "proxy-next-upstream"].split()
    # Not on a timeout: a busy replica is not a dead one.
    assert retried[0] == "error" and "timeout" not in retried
    assert retried[-1] == "non_idempotent"
