"""The action server behind its token, served on loopback in this process."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY
from sanic import Sanic

from actions.catalog_action import shared_catalog
from actions.promotion_actions import ActionListPromotions
from actions.server import (
    DEFAULT_HOST,
    PROFILE_ENV,
    SAMPLE_ACTION_TOKEN,
    TOKEN_ENV,
    ServerConfigError,
    build_parser,
    main,
    make_app,
    outbox_replayer,
    sales_notifier,
    token_from,
    warm_up,
)
from actions.store_actions import ActionStoreInfo
from catalog.errors import CatalogError
from catalog.model import Catalog
from marketing.sales_webhook import SalesNotifier
from marketing.settings import Settings
from privacy.cipher import generate_key
from privacy.masking import mask_openid
from telemetry import correlation, json_logs
from telemetry.json_logs import FORMAT_ENV
from tools.wechat_sim.local_server import serve_locally

TOKEN = "test-action-token"
# rasa-sdk names every app "rasa_sdk"; tests build several in one process.
Sanic.test_mode = True


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    local = await serve_locally(make_app(TOKEN))
    yield local.url
    await local.stop()


async def status(url: str, method: str = "GET", **kwargs: Any) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, **kwargs) as answer,
    ):
        await answer.read()
        return answer.status


async def test_health_is_open(base_url: str) -> None:
    assert await status(base_url + "/health") == 200


async def test_requests_without_the_token_are_refused(base_url: str) -> None:
    assert await status(base_url + "/actions") == 401
    assert await status(base_url + "/actions", params={"token": "guess"}) == 403
    wrong = {"Authorization": "Bearer guess"}
    assert await status(base_url + "/actions", headers=wrong) == 403
    assert await status(base_url + "/webhook", "POST", data="{}") == 401


async def test_the_token_as_rasa_sends_it_or_as_a_bearer(base_url: str) -> None:
    assert await status(base_url + "/actions", params={"token": TOKEN}) == 200
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert await status(base_url + "/actions", headers=bearer) == 200


async def test_an_action_runs_with_the_token(base_url: str) -> None:
    call = {
        "next_action": "action_set_sentiment",
        "sender_id": "o_user1",
        "tracker": {"sender_id": "o_user1", "slots": {}, "latest_message": {}},
        "domain": {},
        "version": "3.6.2",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            base_url + "/webhook", params={"token": TOKEN}, data=json.dumps(call)
        ) as answer,
    ):
        assert answer.status == 200
        assert "events" in await answer.json()


async def test_metrics_are_open_without_a_metrics_token(base_url: str) -> None:
    # Not behind the action token: Prometheus must not hold a key to the actions.
    assert await status(base_url + "/metrics") == 200


async def test_a_metrics_token_guards_only_the_metrics() -> None:
    local = await serve_locally(make_app(TOKEN, metrics="scrape-secret"))
    try:
        url = local.url + "/metrics"
        assert await status(url) == 401
        assert await status(url, headers={"Authorization": f"Bearer {TOKEN}"}) == 401
        bearer = {"Authorization": "Bearer scrape-secret"}
        assert await status(url, headers=bearer) == 200
        assert await status(local.url + "/actions", params={"token": TOKEN}) == 200
    finally:
        await local.stop()


def sample(name: str, action: str) -> float:
    return REGISTRY.get_sample_value(name, {"action": action}) or 0.0


async def test_each_action_call_is_measured_by_name(base_url: str) -> None:
    call = {
        "next_action": "action_set_sentiment",
        "sender_id": "o_user1",
        "tracker": {"sender_id": "o_user1", "slots": {}, "latest_message": {}},
        "domain": {},
        "version": "3.6.2",
    }
    unknown = {**call, "next_action": "action_nobody_wrote"}
    count = "aurora_action_seconds_count"
    before = sample(count, "action_set_sentiment")
    errors_before = sample("aurora_action_errors_total", "unknown")
    refused_before = sample(count, "unknown")
    url = base_url + "/webhook"
    assert await status(url, "POST", params={"token": TOKEN}, json=call) == 200
    assert await status(url, "POST", params={"token": TOKEN}, json=unknown) == 404
    assert await status(url, "POST", json=call) == 401  # not measured: refused
    assert sample(count, "action_set_sentiment") == before + 1
    assert sample(count, "unknown") == refused_before + 1
    assert sample("aurora_action_errors_total", "unknown") == errors_before + 1
    assert sample(count, "action_nobody_wrote") == 0


async def test_a_call_logs_under_the_id_of_the_message_its_turn_answers(
    base_url: str,
) -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(json_logs.json_formatter())
    logging.getLogger().addHandler(handler)
    # The message id Rasa sends is the channel's de-dup key of the message.
    tracker = {
        "sender_id": "o_corr_actions",
        "slots": {},
        "latest_message": {"text": "你好"},
        "events": [
            {"event": "user", "text": "早", "message_id": "msg:4241"},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": "你好", "message_id": "msg:4242"},
            {"event": "user_featurization", "use_text_for_featurization": False},
        ],
    }
    call = {
        "next_action": "action_nobody_wrote",
        "tracker": tracker,
        "domain": {},
        "version": "3.6.2",
    }
    try:
        url = base_url + "/webhook"
        assert await status(url, "POST", params={"token": TOKEN}, json=call) == 404
    finally:
        logging.getLogger().removeHandler(handler)
    expected = contextvars.copy_context().run(
        correlation.bind_message, "msg:4242", "o_corr_actions"
    )
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    # rasa-sdk logs the unknown action while handling the call.
    [logged] = [r for r in lines if "action_nobody_wrote" in r["message"]]
    assert logged["correlation_id"] == expected
    assert logged["openid"] == mask_openid("o_corr_actions")
    assert "o_corr_actions" not in buffer.getvalue()


def test_production_needs_a_token_of_its_own() -> None:
    production = {PROFILE_ENV: "production"}
    with pytest.raises(ServerConfigError, match=TOKEN_ENV):
        token_from(production)
    with pytest.raises(ServerConfigError, match="sample"):
        token_from({**production, TOKEN_ENV: SAMPLE_ACTION_TOKEN})
    assert token_from({**production, TOKEN_ENV: "s3cret"}) == "s3cret"


def test_development_may_run_open_or_with_the_sample() -> None:
    assert token_from({}) is None
    assert token_from({TOKEN_ENV: SAMPLE_ACTION_TOKEN}) == SAMPLE_ACTION_TOKEN


def test_main_refuses_an_unsafe_production_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(PROFILE_ENV, "production")
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main([]) == 2
    assert TOKEN_ENV in capsys.readouterr().err


def test_main_refuses_an_unknown_log_format(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(FORMAT_ENV, "xml")
    assert main([]) == 2
    assert FORMAT_ENV in capsys.readouterr().err


def test_it_listens_on_loopback_by_default() -> None:
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.actions) == (DEFAULT_HOST, 5055, "actions")
    assert DEFAULT_HOST == "127.0.0.1"


def test_the_sales_notifier_runs_only_with_a_webhook(tmp_path: Path) -> None:
    base = Settings(data_key=generate_key(), database_url=f"sqlite:///{tmp_path}/m.db")
    assert sales_notifier(base) is None
    configured = replace(
        base, sales_webhook_url="http://127.0.0.1:1/leads", sales_webhook_secret="s"
    )
    assert isinstance(sales_notifier(configured), SalesNotifier)
    # Leads replayed from the outbox are owed to sales like those stored at once.
    assert outbox_replayer(configured)._outbox.on_lead is not None


def test_warm_up_reads_the_catalog_the_actions_share() -> None:
    shared_catalog.cache_clear()
    assert warm_up()
    first, second = ActionStoreInfo(), ActionListPromotions()
    assert first.catalog is second.catalog is shared_catalog()


def test_a_broken_catalog_still_lets_the_server_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> Catalog:
        raise CatalogError("data/catalog.yml: products[0]: field 'price' is missing")

    assert not warm_up(broken)
    assert "field 'price' is missing" in caplog.text
