"""``aurora-marketing alerts`` from the command line."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from click.testing import CliRunner

from marketing.cli import main
from marketing.store import MarketingStore, utc_now


def seed_spike(store: MarketingStore, today: datetime) -> None:
    """14 calm days (10% negative of 40), then today 50%."""
    rows = []
    for offset in range(14, -1, -1):
        day = datetime.combine((today - timedelta(days=offset)).date(),
                               datetime.min.time())  # fmt: skip
        negative = 20 if offset == 0 else 4
        rows += [
            {"user_id": f"o{n}", "kind": "message", "intent": None, "category": None,
             "sentiment": "negative" if n < negative else "neutral", "scene": None,
             "created_at": day + timedelta(minutes=n)}
            for n in range(40)
        ]  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(store.table("activity").insert(), rows)


@dataclass
class Webhook:
    """A local alert webhook and the JSON bodies posted to it."""

    url: str
    received: list[dict[str, Any]]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A local alert webhook that records what is posted to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Webhook(f"http://127.0.0.1:{server.server_port}/hook", received)
    server.shutdown()
    thread.join()


def test_alerts_print_the_series_and_post_today_spike(
    marketing_db: MarketingStore,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AURORA_ALERT_WEBHOOK_URL", webhook.url)
    today = utc_now()
    seed_spike(marketing_db, today)
    result = CliRunner().invoke(main, ["alerts", "--days", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    today_line = next(line for line in lines if line.startswith(f"{today.date()}  "))
    assert "50.0%" in today_line and "20.0%" in today_line and "舆情预警" in today_line
    assert f"舆情预警 {today.date()}: 50% of 40 messages negative" in result.output
    assert "Alert webhook: 1 of 1 delivered." in result.output
    [body] = webhook.received
    assert body["day"] == today.date().isoformat() and body["negative"] == 20


def test_alerts_without_a_spike_say_so_and_post_nothing(
    marketing_db: MarketingStore, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURORA_ALERT_WEBHOOK_URL", webhook.url)
    result = CliRunner().invoke(main, ["alerts"])
    assert result.exit_code == 0, result.output
    assert "No alert." in result.output
    assert len(result.output.splitlines()) == 1 + 30 + 2
    assert webhook.received == []


def test_a_webhook_that_is_down_still_exits_0(
    marketing_db: MarketingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A closed port: the post fails at once, three tries with short waits.
    monkeypatch.setenv("AURORA_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setattr("time.sleep", lambda s: None)
    seed_spike(marketing_db, utc_now())
    result = CliRunner().invoke(main, ["alerts", "--days", "1"])
    assert result.exit_code == 0, result.output
    assert "Alert webhook: 0 of 1 delivered." in result.output


def test_an_unreachable_store_is_one_clear_line() -> None:
    url = "postgresql://nobody@127.0.0.1:9/none"
    result = CliRunner().invoke(main, ["--database-url", url, "alerts"])
    assert result.exit_code == 1
    assert "database unavailable" in result.output
    assert "Traceback" not in result.output


def test_alerts_has_help() -> None:
    result = CliRunner().invoke(main, ["alerts", "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and "--" in result.output
