"""``aurora-marketing dashboard`` from the command line."""

from __future__ import annotations

import pytest
from aiohttp import web
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


def test_dashboard_serves_the_copy_review(
    marketing_db: MarketingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[web.Application] = []
    monkeypatch.setenv("AURORA_ADMIN_TOKEN", "a-long-admin-token")
    monkeypatch.setattr(web, "run_app", lambda app, **kwargs: served.append(app))
    result = CliRunner().invoke(main, ["dashboard", "--port", "0"])
    assert result.exit_code == 0, result.output
    [app] = served
    paths = {r.resource.canonical for r in app.router.routes() if r.resource}
    assert {"/", "/copy", "/api/copy-drafts"} <= paths
