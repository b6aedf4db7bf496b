"""``make report``'s dashboard screenshot over the configured store."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from marketing.store import MarketingStore
from tests.servers.dashboard_data import seed
from tests.services import service_unavailable
from tools.dashboard_browser import chromium_missing
from tools.dashboard_screenshot import WIDTH, main


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_writes_a_full_page_png_of_the_configured_store(
    marketing_db: MarketingStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if reason := chromium_missing():
        service_unavailable(reason)
    # No admin token configured: a throwaway one serves the screenshot.
    monkeypatch.delenv("AURORA_ADMIN_TOKEN", raising=False)
    seed(marketing_db)
    out = tmp_path / "results" / "dashboard.png"
    main(["--out", str(out)])
    width, height = png_size(out)
    assert width == WIDTH
    # The whole page, not the first screen: funnel, sentiment table and all.
    assert height > 1200
    assert str(out) in capsys.readouterr().out
