"""What the deployment files must agree on: routes, ports and each process's settings.

The paths and ports are issue 13's environment contract; the settings are read
from the files the processes read (``endpoints.yml``, ``credentials.yml``, the
marketing commands' WeChat client) plus what the cluster adds to them, so a
variable added there is missed by no deployment file.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

BOT_PORT = 5005
ACTION_PORT = 5055
# The bot's routes (the WeChat channel): what WeChat calls, liveness, readiness
# (200 once the model is loaded and the stores answer) and metrics.
WEBHOOK = "/webhooks/wechat/webhook"
LIVENESS = "/webhooks/wechat/"
READINESS = "/webhooks/wechat/ready"
BOT_METRICS = "/webhooks/wechat/metrics"
# The action server's (rasa-sdk's health check and ours).
ACTION_HEALTH = "/health"
ACTION_METRICS = "/metrics"
# The only bot routes a proxy may publish.
PUBLIC_PATHS = frozenset({WEBHOOK, LIVENESS})

UID = 10001

RABBITMQ = frozenset(
    {"RABBITMQ_HOST", "RABBITMQ_PORT", "RABBITMQ_USER", "RABBITMQ_PASSWORD"}
    | {"RABBITMQ_QUEUE"}
)
LOGGING = frozenset({"AURORA_PROFILE", "AURORA_LOG_FORMAT"})
# The bearer token of /metrics (telemetry.exposition.TOKEN_ENV).
METRICS = frozenset({"AURORA_METRICS_TOKEN"})
# The cluster column of the contract for the Rasa servers, beyond the files'
# ${NAME}s (TICKET_LOCK_LIFETIME is read by Rasa itself).
CLUSTER_BOT = (
    frozenset(
        {
            "AURORA_ACTION_URL",
            "AURORA_ACTION_TOKEN",
            "RASA_TRACKER_STORE_URL",
            "RASA_LOCK_STORE",
            "RASA_LOCK_STORE_HOST",
            "RASA_LOCK_STORE_PORT",
            "RASA_LOCK_STORE_DB",
            "RASA_LOCK_STORE_PASSWORD",
            "TICKET_LOCK_LIFETIME",
            "RASA_EVENT_BROKER",
            "WECHAT_STORE",
        }
    )
    | RABBITMQ
    | LOGGING
    | METRICS
)
# The marketing store in production: its database and the key of personal data.
MARKETING = frozenset({"AURORA_DATABASE_URL", "AURORA_DATA_KEY"}) | LOGGING

# Names of settings that hold secrets.
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|_KEY$|_APP_ID$")

_REFERENCE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_ENVIRON_GET = re.compile(r"""environ\.get\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def file_variables(*names: str) -> set[str]:
    """The ``${NAME}``s in the values of YAML files (Rasa expands those)."""
    found: set[str] = set()
    for name in names:
        found |= _references(yaml.safe_load((ROOT / name).read_text("utf-8")))
    return found


def _references(node: object) -> set[str]:
    if isinstance(node, str):
        return set(_REFERENCE.findall(node))
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node))
    return set()


def bot_variables() -> set[str]:
    """Every variable a Rasa replica of the cluster reads."""
    return file_variables("endpoints.yml", "credentials.yml") | CLUSTER_BOT


def action_server_variables() -> set[str]:
    """Every variable an action server of the cluster reads."""
    from actions.server import PROFILE_ENV, TOKEN_ENV

    return {TOKEN_ENV, PROFILE_ENV} | MARKETING | METRICS


def consumer_variables() -> set[str]:
    """The analytics consumer: RabbitMQ in, the marketing store out."""
    return set(MARKETING | RABBITMQ)


def scheduler_variables() -> set[str]:
    """The scheduler: the marketing store and WeChat's API (the bot's account)."""
    source = (ROOT / "marketing" / "cli" / "wechat_api.py").read_text("utf-8")
    return set(MARKETING) | set(_ENVIRON_GET.findall(source))


def sample_secrets() -> dict[str, str]:
    """dev.env's sample secrets, which no deployment file may carry."""
    from tools.bot_servers import dev_environment

    samples = dev_environment(ROOT / "dev.env")
    return {
        name: value
        for name, value in samples.items()
        if value and SECRET_NAME.search(name)
    }
