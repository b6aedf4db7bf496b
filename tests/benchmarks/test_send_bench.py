"""The send benchmark's runs work at tiny sizes (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.send_bench import APP_ID, APP_SECRET, crash_and_resume, throughput
from tools.wechat_sim.fake_api import FakeWeChatApiThread


def test_throughput_and_crash_and_resume_at_tiny_sizes(tmp_path: Path) -> None:
    server = FakeWeChatApiThread(APP_ID, APP_SECRET)
    try:
        measured = throughput(server.api, 20, 500, postgres=False, folder=tmp_path)
        assert (measured.n, measured.sent) == (20, 20)
        assert "| 500/s | 20 | 20 |" in measured.row()
        crash = crash_and_resume(server.api, 60, 200, postgres=False, folder=tmp_path)
    finally:
        server.stop()
    assert crash.n == 60 and crash.lost == 0 and crash.duplicates == 0
    assert crash.missing_after_retry == 0
    assert crash.uncertain_delivered <= crash.uncertain
