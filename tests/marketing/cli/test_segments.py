"""``aurora-marketing segments``: sizes, members, JSON, tag sync and clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from marketing.cli import main
from marketing.store import MarketingStore, utc_now
from tests.wechat.fakes import APP_ID, APP_SECRET
from tools.wechat_sim.fake_api import FakeWeChatApiThread

SEGMENTS = """
segments:
  - name: earbud-fans
    description: 问过耳机
    tag: 耳机兴趣
    categories: [耳机]
  - name: active-48h
    active_within: 48h
"""


@pytest.fixture
def seeded(marketing_db: MarketingStore, tmp_path: Path) -> Path:
    now = utc_now()
    rows = [
        {"user_id": user, "kind": "message", "category": category, "created_at": at}
        for user, category, at in [
            ("o_fan1", "耳机", now),
            ("o_fan2", "耳机", now - timedelta(days=5)),
            ("o_gone", "耳机", now),
            ("o_other", "手机", now),
        ]
    ]
    with marketing_db.engine.begin() as connection:
        connection.execute(marketing_db.table("activity").insert(), rows)
    marketing_db.opt_out("o_gone")
    path = tmp_path / "segments.yml"
    path.write_text(SEGMENTS, encoding="utf-8")
    return path


@pytest.fixture
def fake_api_thread() -> Iterator[FakeWeChatApiThread]:
    server = FakeWeChatApiThread(APP_ID, APP_SECRET)
    yield server
    server.stop()


def test_sizes_in_a_table(seeded: Path) -> None:
    result = CliRunner().invoke(main, ["segments", "--file", str(seeded)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == ["earbud-fans", "2", "问过耳机"]
    assert lines[2].split() == ["active-48h", "2"]
    assert "4 followers profiled" in lines[-1]
    assert "o_fan1" not in result.output  # openids only with --members


def test_members_as_json_for_named_segments(seeded: Path) -> None:
    args = ["segments", "earbud-fans", "--file", str(seeded), "--format", "json"]
    result = CliRunner().invoke(main, [*args, "--members"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)["segments"]
    assert row == {
        "name": "earbud-fans",
        "size": 2,
        "tag": "耳机兴趣",
        "description": "问过耳机",
        "members": ["o_fan1", "o_fan2"],
    }


def test_sync_tags_through_the_api(
    seeded: Path,
    fake_api_thread: FakeWeChatApiThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("WECHAT_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WECHAT_API_BASE_URL", fake_api_thread.api.base_url)
    args = ["segments", "--file", str(seeded), "--sync-tags", "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["segments"]
    assert [r["sync"]["tagged"] for r in rows] == [2, 2]
    tags = fake_api_thread.api.tags
    assert tags.tag_named("耳机兴趣") == {"o_fan1", "o_fan2"}
    assert tags.tag_named("active-48h") == {"o_fan1", "o_other"}


def test_a_failed_sync_exits_1(
    seeded: Path,
    fake_api_thread: FakeWeChatApiThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("WECHAT_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WECHAT_API_BASE_URL", fake_api_thread.api.base_url)
    fake_api_thread.api.tags.fail_next("batchtagging", 40032)
    result = CliRunner().invoke(
        main, ["segments", "--file", str(seeded), "--sync-tags"]
    )
    assert result.exit_code == 1
    assert "batchtagging: 40032" in result.output
    assert "some tags were not synced completely" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "unknown segment nobody"),
        (["--sync-tags"], "WECHAT_APP_ID and WECHAT_APP_SECRET must be set"),
    ],
)
def test_clear_errors(
    seeded: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.delenv("WECHAT_APP_ID", raising=False)
    result = CliRunner().invoke(main, ["segments", "--file", str(seeded), *args])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_a_bad_segments_file_is_one_line(seeded: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("segments:\n  - name: x\n    colour: red\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["segments", "--file", str(bad)])
    assert result.exit_code == 1
    assert "segment 'x': unknown rule 'colour'" in result.output


def test_an_unreachable_database_is_one_line(seeded: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/none"
    result = CliRunner().invoke(
        main, ["--database-url", url, "segments", "--file", str(seeded)]
    )
    assert result.exit_code == 1
    assert "database unavailable" in result.output
