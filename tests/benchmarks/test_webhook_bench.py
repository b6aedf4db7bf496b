"""The webhook benchmark's measurements run (tiny sizes) and summarise correctly.

The end-to-end load runs against the WeChat channel over a stub agent (no model).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from benchmarks.webhook_bench import APP_ID, APP_SECRET, codec, http, main, summarise
from benchmarks.webhook_e2e import (
    Account,
    EndToEndReport,
    count_user_events,
    load_bot,
)
from channels.wechat import WeChatInput
from tools.wechat_sim.fake_api import FakeWeChatApi
from tools.wechat_sim.local_server import serve_locally
from wechat.config import WeChatSettings
from wechat.storage import MemoryStore


def test_summarise() -> None:
    timing = summarise("x", [0.001] * 19 + [0.1], wall_s=2.0)
    assert timing.p50_ms == 1.0
    assert timing.p95_ms == 100.0
    assert timing.per_s == 10.0
    assert timing.row().startswith("| x | 1.00 | 100.00 |")


def test_codec_runs_in_both_modes() -> None:
    assert codec(20, aes=False).n == 20
    assert codec(20, aes=True).n == 20


async def test_http_runs_in_both_modes() -> None:
    assert (await http(20, 4, aes=False)).n == 20
    assert (await http(20, 4, aes=True)).n == 20


def test_end_to_end_report() -> None:
    report = EndToEndReport(
        latencies_s=[0.2, 0.4, 6.0], passive=2, through_api=1, sent=3
    )
    assert not report.ok  # one answer later than 5 s
    assert "| answers later than 5 s | 1 |" in report.markdown()
    assert EndToEndReport(latencies_s=[0.1], passive=1, sent=1).ok


def test_a_missing_model_stops_the_benchmark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--skip-overhead", "--model", str(tmp_path / "gone.tar.gz")])
    assert stopped.value.code == 2
    assert "no such model archive" in capsys.readouterr().err


def test_end_to_end_report_turns_per_second() -> None:
    report = EndToEndReport(
        latencies_s=[0.1] * 19 + [0.9], passive=15, through_api=5, sent=20, wall_s=4
    )
    assert report.turns_per_s == 5.0
    assert report.p95_s == 0.9
    assert "| turns per second | 5.0 |" in report.markdown()
    assert EndToEndReport().turns_per_s == 0.0


def _tracker_store(path: Path, events: list[tuple[str, str, str]]) -> str:
    """A SQLite file with the columns of Rasa's SQL tracker store that are read."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE events (sender_id, type_name, data)")
        connection.executemany(
            "INSERT INTO events VALUES (?, ?, ?)",
            [(s, t, json.dumps({"message_id": m})) for s, t, m in events],
        )
    return f"sqlite:///{path}"


def test_count_user_events_counts_message_ids_of_the_senders(tmp_path: Path) -> None:
    url = _tracker_store(
        tmp_path / "trackers.db",
        [
            ("u1", "user", "m1"),
            ("u1", "user", "m1"),
            ("u1", "action", "m1"),
            ("u2", "user", "m2"),
            ("other", "user", "m3"),
        ],
    )
    counts = count_user_events(url, ["u1", "u2"])
    assert counts == {"u1/m1": 2, "u2/m2": 1}


class _StubBot:
    """The WeChat channel over a stub agent that records user events like Rasa.

    Every second message is answered after the passive deadline, so its answer
    comes through the customer-service API.
    """

    def __init__(self, database: Path) -> None:
        self.database = database
        self.turns = 0

    async def __call__(self, message: UserMessage) -> None:
        self.turns += 1
        with sqlite3.connect(self.database) as connection:
            connection.execute(
                "INSERT INTO events VALUES (?, 'user', ?)",
                (message.sender_id, json.dumps({"message_id": message.message_id})),
            )
        if self.turns % 2 == 0:
            await asyncio.sleep(0.3)
        await message.output_channel.send_response(message.sender_id, {"text": "收到"})


async def test_load_bot_sees_every_answer_and_reads_the_trackers(
    tmp_path: Path,
) -> None:
    api = await FakeWeChatApi(APP_ID, APP_SECRET).start()
    account = Account()
    settings = WeChatSettings.from_credentials(
        {
            **account.credentials(api.base_url),
            "reply_deadline_s": 0.2,
            "followup_delay_s": 0,
            "retry_queue_path": str(tmp_path / "retry.db"),
        }
    )
    url = _tracker_store(tmp_path / "trackers.db", [])
    stub = _StubBot(tmp_path / "trackers.db")
    channel = WeChatInput(settings, store=MemoryStore())
    Sanic.test_mode = True
    app = Sanic(f"bench_stub_{uuid.uuid4().hex}", configure_logging=False)
    app.blueprint(channel.blueprint(stub), url_prefix="/webhooks/wechat")
    server = await serve_locally(app)
    try:
        report = await load_bot([server.url], api, url, users=3, messages=4)
    finally:
        await server.stop()
        await api.stop()
    assert report.sent == 12
    assert report.passive + report.through_api == 12
    assert report.through_api > 0
    assert report.lost == report.duplicated == 0
    assert report.user_events == 12
    assert report.ok
