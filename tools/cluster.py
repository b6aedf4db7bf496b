"""Runs the bot as a cluster on one machine: ``make run-cluster``.

On loopback: nginx (Debian's package) in front of two ``rasa run`` replicas and
two action servers, the analytics consumer of Rasa's event stream
(``aurora-marketing consume-events``) and the campaign scheduler; Rasa's lock
store in Redis, its tracker store and the marketing store in PostgreSQL, its
events on RabbitMQ, the channel's de-dup keys and token in Redis. Everything is
configured by the environment that ``endpoints.yml`` and ``credentials.yml``
read: ``cluster.env`` over ``dev.env`` (:func:`cluster_environment`). Each
replica gets its own durable queues; the databases are created when missing.
nginx's configuration, pid and logs go into the run's folder (no root needed,
nothing of the system's nginx is touched). Used by the cluster test and
``benchmarks/webhook_bench.py`` too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tools.bot_servers import (
    BIN,
    ROOT,
    StartupError,
    dev_environment,
    env_file,
    free_port,
    wait_until_up,
)

CLUSTER_ENV = ROOT / "cluster.env"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "cluster.conf.template"
READY_PATH = "/webhooks/wechat/ready"
WEBHOOK_PATH = "/webhooks/wechat/webhook"
# nginx as Debian installs it, when it is not on PATH (root's PATH has sbin).
NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
STOP_TIMEOUT_S = 30.0
# The background commands of the cluster: Rasa's events into the marketing
# store, and scheduled campaign sends.
WORKERS_COMMANDS = {"consumer": "consume-events", "scheduler": "scheduler"}
WORKERS = tuple(WORKERS_COMMANDS)


@dataclass(frozen=True)
class ClusterPorts:
    """Where the cluster listens, all on 127.0.0.1."""

    webhook: int = 8080
    actions: int = 8055
    rasa: tuple[int, ...] = (5005, 5006)
    action_servers: tuple[int, ...] = (5055, 5056)

    @classmethod
    def free(cls, replicas: int = 2) -> ClusterPorts:
        """Ports nothing listens on now (tests, benchmarks)."""
        return cls(
            webhook=free_port(),
            actions=free_port(),
            rasa=tuple(free_port() for _ in range(replicas)),
            action_servers=tuple(free_port() for _ in range(replicas)),
        )


@dataclass
class Cluster:
    """The running processes of a cluster and where to reach them."""

    ports: ClusterPorts
    folder: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def webhook_url(self) -> str:
        """WeChat's server URL: nginx's webhook."""
        return f"http://127.0.0.1:{self.ports.webhook}{WEBHOOK_PATH}"

    def replica_url(self, index: int) -> str:
        """One Rasa replica's base URL, past nginx."""
        return f"http://127.0.0.1:{self.ports.rasa[index]}"

    def kill(self, name: str) -> None:
        """Kills one process at once (SIGKILL: no shutdown, as a crash)."""
        process = self.processes[name]
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> None:
        """Stops every process (SIGTERM, then SIGKILL after a while)."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def cluster_environment(
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The cluster profile: ``cluster.env`` over ``dev.env`` over ``base``.

    ``make run-cluster`` already exports that (a variable set by the user wins
    there); tests and benchmarks build it here, so the profile wins over what
    ``make`` exported for the single process.
    """
    return {
        **(os.environ if base is None else base),
        **dev_environment(),
        **env_file(CLUSTER_ENV),
    }


def delete_queue(environment: Mapping[str, str]) -> None:
    """Deletes the profile's RabbitMQ queue (a test's or benchmark's scratch one).

    Nothing happens when RabbitMQ or the queue is not there.
    """
    import aio_pika

    from marketing.rabbitmq import amqp_url, queue_name

    async def delete() -> None:
        connection = await aio_pika.connect(amqp_url(environment))
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue_name(environment))

    try:
        asyncio.run(delete())
    except Exception:  # nothing to clean up
        return


def nginx_binary() -> str:
    """The nginx executable.

    Raises:
        StartupError: nginx is not installed (``make nginx`` installs it).
    """
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise StartupError(
        "nginx is not installed: `make nginx` installs Debian's package "
        "(as root), or `sudo apt-get install -y nginx`."
    )


def nginx_config(ports: ClusterPorts, prefix: Path) -> str:
    """The nginx configuration for ``ports``, its files under ``prefix``."""

    def servers(ports_of: tuple[int, ...], extra: str) -> str:
        return "\n".join(
            f"        server 127.0.0.1:{port}{extra};" for port in ports_of
        )

    template = Template(NGINX_TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(
        prefix=str(prefix),
        webhook_port=ports.webhook,
        actions_port=ports.actions,
        # Never marked down: nginx counts a slow answer as a failure, and two
        # busy replicas out at once would lose pushes ("no live upstreams"); a
        # dead one refuses at once on loopback, and the push goes on.
        rasa_servers=servers(ports.rasa, " max_fails=0"),
        action_servers=servers(ports.action_servers, " max_fails=3 fail_timeout=5s"),
    )


def ensure_databases(environment: Mapping[str, str]) -> None:
    """Creates the PostgreSQL databases the profile names, when missing.

    Raises:
        StartupError: PostgreSQL cannot be reached.
    """
    for variable in ("RASA_TRACKER_STORE_URL", "AURORA_DATABASE_URL"):
        url = environment.get(variable, "")
        if not url.startswith("postgresql"):
            continue
        target = make_url(url)
        admin = sa.create_engine(
            target.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        try:
            with admin.connect() as connection:
                exists = connection.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": target.database},
                ).first()
                if exists is None:
                    connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
        except sa.exc.OperationalError as e:
            raise StartupError(
                f"PostgreSQL of {variable} cannot be reached: {e.orig}"
            ) from e
        finally:
            admin.dispose()


@contextmanager
def running_cluster(
    folder: Path,
    model: Path,
    environment: Mapping[str, str],
    ports: ClusterPorts | None = None,
    workers: Sequence[str] = WORKERS,
) -> Iterator[Cluster]:
    """Runs the cluster until the block ends.

    Args:
        folder: nginx's files, each replica's queues and the logs.
        model: a model archive or a folder of them.
        environment: the processes' environment (:func:`cluster_environment`).
        ports: where to listen; the ports of ``make run-cluster`` by default.
        workers: which of ``aurora-marketing``'s background commands run.

    Raises:
        StartupError: a part is missing or did not come up.
    """
    ports = ports or ClusterPorts()
    folder = folder.resolve()  # nginx reads -c relative to its -p prefix
    nginx = nginx_binary()
    ensure_databases(environment)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tmp").mkdir(exist_ok=True)
    config = folder / "nginx.conf"
    config.write_text(nginx_config(ports, folder), encoding="utf-8")
    cluster = Cluster(ports=ports, folder=folder)
    python = str(BIN / "python")
    base_env = {
        **environment,
        "RASA_TELEMETRY_ENABLED": "false",
        # Rasa calls the action servers through nginx, on this cluster's port.
        "AURORA_ACTION_URL": f"http://127.0.0.1:{ports.actions}/webhook",
    }

    def start(name: str, command: list[str], **extra: str) -> None:
        log = (folder / f"{name}.log").open("ab")
        cluster.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env={**base_env, **extra}, stdout=log, stderr=log
        )

    try:
        for index, port in enumerate(ports.action_servers, 1):
            start(
                f"actions-{index}",
                [python, "-m", "actions.server", "--port", str(port)],
                AURORA_OUTBOX_PATH=str(folder / f"actions-{index}-outbox.db"),
            )
            # One after the other: the first writes the development data key
            # the second must share.
            wait_until_up(
                f"http://127.0.0.1:{port}/health", list(cluster.processes.values())
            )
        for index, port in enumerate(ports.rasa, 1):
            start(
                f"rasa-{index}",
                [str(BIN / "rasa"), "run", "-i", "127.0.0.1", "--port", str(port),
                 "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
                 "--model", str(model)],
                WECHAT_RETRY_QUEUE_PATH=str(folder / f"rasa-{index}-retry.db"),
                AURORA_OUTBOX_PATH=str(folder / f"rasa-{index}-outbox.db"),
            )  # fmt: skip
        for worker in workers:
            start(
                worker,
                [python, "-m", "marketing.cli", "-v", WORKERS_COMMANDS[worker]],
                AURORA_OUTBOX_PATH=str(folder / f"{worker}-outbox.db"),
            )
        start("nginx", [nginx, "-p", str(folder), "-c", str(config),
                        "-g", "daemon off;"])  # fmt: skip
        processes = list(cluster.processes.values())
        for index in range(len(ports.rasa)):
            wait_until_up(cluster.replica_url(index) + READY_PATH, processes)
        wait_until_up(f"http://127.0.0.1:{ports.webhook}/webhooks/wechat/", processes)
        yield cluster
    finally:
        cluster.stop()


def main(argv: list[str] | None = None) -> int:
    """``make run-cluster``: starts the cluster and waits for Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--folder", type=Path, default=ROOT / ".runtime" / "cluster")
    args = parser.parse_args(argv)
    try:
        with running_cluster(args.folder, args.model, dict(os.environ)) as cluster:
            print(
                f"The cluster is up. WeChat's server URL: {cluster.webhook_url}\n"
                f"Replicas: {', '.join(cluster.replica_url(i) for i in range(2))} "
                f"(metrics and readiness on each, under /webhooks/wechat/).\n"
                f"Logs: {args.folder}/*.log. Ctrl-C stops everything.",
                flush=True,
            )
            stopping = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stopping.set())
            while not stopping.wait(1.0):
                gone = [n for n, p in cluster.processes.items() if p.poll() is not None]
                if gone:
                    print(f"{', '.join(gone)} stopped; see its log.", file=sys.stderr)
                    return 1
    except StartupError as e:
        print(f"The cluster did not start: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
