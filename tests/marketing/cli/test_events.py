"""``aurora-marketing consume-events`` against the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from marketing.cli import main
from marketing.store import MarketingStore
from tests.marketing.amqp_helpers import Names, encoded, publish, waiting
from tests.marketing.rasa_events import TS, action_event, user_event

ROOT = Path(__file__).resolve().parents[3]


def pg_url(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


def activity_count(database: str) -> int:
    store = MarketingStore.from_url(pg_url(database))
    try:
        with store.engine.connect() as connection:
            query = sa.select(sa.func.count()).select_from(store.table("activity"))
            return int(connection.execute(query).scalar_one())
    finally:
        store.engine.dispose()


def test_it_records_the_queue_named_in_the_environment_and_exits_when_idle(
    rabbitmq_url: str, rabbitmq_names: Names, postgres_database: str
) -> None:
    queue, exchange = rabbitmq_names
    events = encoded(user_event(timestamp=TS), action_event("utter_greet"))
    asyncio.run(publish(rabbitmq_url, rabbitmq_names, [*events, b"junk"]))
    environment = {
        "RABBITMQ_HOST": "127.0.0.1",
        "RABBITMQ_PORT": "5672",
        "RABBITMQ_USER": "guest",
        "RABBITMQ_PASSWORD": "guest",
        "RABBITMQ_QUEUE": queue,
    }
    result = CliRunner(env=environment).invoke(
        main,
        [
            "--database-url",
            pg_url(postgres_database),
            "consume-events",
            "--exchange",
            exchange,
            "--exit-when-idle",
            "1",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"amqp://guest:****@127.0.0.1:5672/ {queue}: 3 events received, "
        "2 recorded or skipped, 1 rejected."
    )
    assert activity_count(postgres_database) == 1
    assert asyncio.run(waiting(rabbitmq_url, queue)) == 0


def test_sigterm_stops_it_gracefully(
    rabbitmq_url: str, rabbitmq_names: Names, postgres_database: str
) -> None:
    queue, exchange = rabbitmq_names
    command = [
        sys.executable,
        "-m",
        "marketing.cli",
        "--database-url",
        pg_url(postgres_database),
        "consume-events",
        "--url",
        rabbitmq_url,
        "--queue",
        queue,
        "--exchange",
        exchange,
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        asyncio.run(publish(rabbitmq_url, rabbitmq_names, encoded(user_event())))
        deadline = time.monotonic() + 60
        while activity_count(postgres_database) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert f"{queue}: 1 events received, 1 recorded or skipped, 0 rejected." in output
    assert activity_count(postgres_database) == 1
