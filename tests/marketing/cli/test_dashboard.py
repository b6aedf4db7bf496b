"""``aurora-marketing dashboard`` from the command line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from marketing.cli import main
from marketing.store import MarketingStore


def test_dashboard_refuses_to_start_without_a_token(
    marketing_db: MarketingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AURORA_ADMIN_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["dashboard", "--port", "0"])
    assert result.exit_code == 1
    assert "AURORA_ADMIN_TOKEN is not set" in result.output
    assert "Traceback" not in result.output


def test_dashboard_has_help() -> None:
    result = CliRunner().invoke(main, ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "/api/campaigns" in result.output
