"""The admin server over a real local HTTP server: auth, the JSON API, the page."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from servers.admin_auth import AdminAuth, AdminTokenMissing
from servers.admin_request import SESSION_COOKIE
from servers.admin_server import DEFAULT_HOST, main, make_app
from tests.servers.dashboard_data import FUNNEL, SEGMENTS, SPIKE_DAY, FakeSource

TOKEN = "admin-secret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
API = [
    "/api/campaigns",
    "/api/segments",
    "/api/funnel",
    "/api/sentiment",
    "/api/activity",
]


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_app(FakeSource(), TOKEN))) as c:
        yield c


async def logged_in(client: TestClient) -> None:
    response = await client.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("token", [None, "", "   "])
def test_refuses_to_start_without_a_token(token: str | None) -> None:
    with pytest.raises(AdminTokenMissing, match="AURORA_ADMIN_TOKEN"):
        make_app(FakeSource(), token)


def test_listens_on_loopback_by_default() -> None:
    assert DEFAULT_HOST == "127.0.0.1"


@pytest.mark.parametrize("path", API)
async def test_api_needs_the_bearer_token(client: TestClient, path: str) -> None:
    missing = await client.get(path)
    assert missing.status == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = await client.get(path, headers={"Authorization": "Bearer guess"})
    assert wrong.status == 403
    basic = await client.get(path, headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status == 403
    assert (await client.get(path, headers=BEARER)).status == 200


async def test_campaigns_api_serves_the_reports(client: TestClient) -> None:
    [report] = await (await client.get("/api/campaigns", headers=BEARER)).json()
    assert report["campaign"] == "double12-reminder"
    assert report["total"]["revenue"] == "2392.00"
    assert report["total"]["roi"] == pytest.approx(3.784)
    assert [v["variant"] for v in report["variants"]] == ["plain", "urgent"]
    assert report["variants"][1]["ctr"] == pytest.approx(0.2)
    assert report["comparison"]["winner"] is None
    assert report["daily"][0]["day"] == "2026-12-10"


async def test_segments_and_funnel_apis(client: TestClient) -> None:
    segments = await (await client.get("/api/segments", headers=BEARER)).json()
    assert segments == SEGMENTS
    funnel = await (await client.get("/api/funnel", headers=BEARER)).json()
    assert {s["step"]: s["count"] for s in funnel} == FUNNEL


async def test_sentiment_api_reports_the_spike(client: TestClient) -> None:
    response = await client.get("/api/sentiment?days=7", headers=BEARER)
    body = await response.json()
    assert len(body["days"]) == 7
    assert body["days"][-1]["day"] == SPIKE_DAY.isoformat()
    assert body["days"][-1]["share"] == pytest.approx(0.5)
    assert [a["day"] for a in body["alerts"]] == [SPIKE_DAY.isoformat()]
    assert body["alerts"][0]["threshold"] == pytest.approx(0.2)
    assert body["rule"]["baseline_days"] == 14


async def test_activity_api_serves_the_days(client: TestClient) -> None:
    response = await client.get("/api/activity?days=3", headers=BEARER)
    days = await response.json()
    assert [d["day"] for d in days][-1] == SPIKE_DAY.isoformat()
    assert len(days) == 3
    assert days[-1] == {
        "messages": 40,
        "events": 0,
        "positive": 0,
        "neutral": 20,
        "negative": 20,
        "actions": 40,
        "intents": {"ask_price": 40},
        "day": SPIKE_DAY.isoformat(),
        "followers": 10,
    }


@pytest.mark.parametrize("api", ["sentiment", "activity"])
@pytest.mark.parametrize("days", ["0", "abc", "1000"])
async def test_days_out_of_range_is_a_400(
    client: TestClient, api: str, days: str
) -> None:
    response = await client.get(f"/api/{api}?days={days}", headers=BEARER)
    assert response.status == 400


async def test_the_page_sends_strangers_to_the_login_form(client: TestClient) -> None:
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    form = await client.get("/login")
    assert form.status == 200
    assert 'name="token"' in await form.text()


async def test_a_wrong_token_in_the_form_is_refused(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = await client.post("/login", data={"token": "guess"})
        await logged_in(client)
    assert response.status == 403
    assert "Wrong token" in await response.text()
    assert "guess" not in caplog.text and TOKEN not in caplog.text


async def test_login_sets_a_signed_session_not_the_token(client: TestClient) -> None:
    response = await client.post("/login", data={"token": TOKEN}, allow_redirects=False)
    cookie = response.cookies[SESSION_COOKIE]
    assert TOKEN not in cookie.value
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    page = await client.get("/")
    assert page.status == 200
    html = await page.text()
    assert 'id="campaign-double12-reminder"' in html
    assert "Content-Security-Policy" in page.headers
    # The session opens the JSON API too.
    assert (await client.get("/api/segments")).status == 200


async def test_logout_ends_the_session(client: TestClient) -> None:
    await logged_in(client)
    await client.post("/logout", allow_redirects=False)
    assert (await client.get("/", allow_redirects=False)).status == 303


@pytest.mark.parametrize(
    "forge", ["the token itself", "garbage", "altered expiry", "other key", "expired"]
)
async def test_forged_sessions_are_refused(forge: str) -> None:
    clock = [1_800_000_000.0]
    auth = AdminAuth(TOKEN, clock=lambda: clock[0])
    real = auth.new_session()
    expires, nonce, signature = real.split(".")
    session = {
        "the token itself": TOKEN,
        "garbage": "x.y.z",
        "altered expiry": f"{int(expires) + 10**6}.{nonce}.{signature}",
        "other key": AdminAuth("another-token").new_session(),
        "expired": real,
    }[forge]
    if forge == "expired":
        clock[0] += 9 * 3600
    assert auth.session_valid(real) is (forge != "expired")
    assert not auth.session_valid(session)
    app = make_app(FakeSource(), TOKEN, clock=lambda: clock[0])
    async with TestClient(TestServer(app)) as c:
        c.session.cookie_jar.update_cookies({SESSION_COOKIE: session})
        assert (await c.get("/", allow_redirects=False)).status == 303
        assert (await c.get("/api/funnel")).status == 401


async def test_store_down_is_a_503_not_a_traceback() -> None:
    async with TestClient(TestServer(make_app(FakeSource(down=True), TOKEN))) as c:
        for path in API:
            response = await c.get(path, headers=BEARER)
            assert response.status == 503
            assert await response.json() == {"error": "marketing store unavailable"}
        await logged_in(c)
        page = await c.get("/")
        assert page.status == 503
        text = await page.text()
        assert 'id="unavailable"' in text
        assert "Traceback" not in text and "ConnectionError" not in text


async def test_a_hung_store_is_a_503_after_the_timeout() -> None:
    release = threading.Event()
    app = make_app(FakeSource(hang=release), TOKEN, read_timeout_s=0.2)
    try:
        async with TestClient(TestServer(app)) as c:
            response = await c.get("/api/segments", headers=BEARER)
            assert response.status == 503
    finally:
        release.set()


def test_main_serves_the_copy_review(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[web.Application] = []
    monkeypatch.setenv("AURORA_ADMIN_TOKEN", TOKEN)
    monkeypatch.setattr(web, "run_app", lambda app, **kwargs: served.append(app))
    main(["--port", "0"])
    [app] = served
    paths = {r.resource.canonical for r in app.router.routes() if r.resource}
    assert {"/", "/copy", "/api/copy-drafts", "/api/funnel"} <= paths
