"""The copy review of the admin server over a real SQLite store: page, forms, API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from marketing.copy_drafts import APPROVED, PENDING, REJECTED, CopyDrafts
from marketing.copy_review import StoreCopyReview
from marketing.store import MarketingStore
from servers.admin_auth import AdminAuth
from servers.admin_server import make_app
from tests.marketing.copy_data import (
    CAMPAIGN,
    FAILING,
    OTHER_CAMPAIGN,
    PASSING,
    SeededDrafts,
    checker,
    seed_drafts,
)
from tests.marketing.fixtures import broken_store
from tests.servers.dashboard_data import FakeSource

TOKEN = "admin-secret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
CSRF = re.compile(r'name="csrf" value="([0-9a-f]*)"')


@pytest.fixture
def seeded(marketing_db: MarketingStore) -> SeededDrafts:
    return seed_drafts(marketing_db)


@pytest.fixture
async def client(
    marketing_db: MarketingStore, seeded: SeededDrafts
) -> AsyncIterator[TestClient]:
    review = StoreCopyReview(lambda: marketing_db, checker())
    app = make_app(FakeSource(), TOKEN, review=review)
    async with TestClient(TestServer(app)) as c:
        yield c


def stored(store: MarketingStore, draft_id: int) -> Any:
    return CopyDrafts(store).get(draft_id)


async def log_in(client: TestClient) -> str:
    """Logs in through the form; the CSRF token of the review page's forms."""
    response = await client.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert response.status == 303
    page = await client.get("/copy")
    assert page.status == 200
    [token, *_] = CSRF.findall(await page.text())
    return str(token)


async def post_form(
    client: TestClient, path: str, csrf: str, **fields: str
) -> ClientResponse:
    data = {"csrf": csrf, "filter_status": "", "filter_campaign": "", **fields}
    return await client.post(path, data=data, allow_redirects=False)


# The JSON API


async def test_the_api_lists_drafts_with_their_checks(
    client: TestClient, seeded: SeededDrafts
) -> None:
    response = await client.get("/api/copy-drafts", headers=BEARER)
    assert response.status == 200
    drafts = {d["id"]: d for d in await response.json()}
    assert list(drafts) == sorted(drafts) and len(drafts) == 5
    failing = drafts[seeded.failing]
    assert failing["status"] == PENDING and failing["passes"] is False
    assert [f["check"] for f in failing["failures"]] == ["ad_law", "facts"]
    assert "suggested:" in failing["failures"][0]["detail"]
    assert failing["backend"] == "transformers" and failing["tone"] == "亲切"
    assert failing["brief"]["campaign"] == CAMPAIGN  # the brief, parsed
    assert drafts[seeded.passing]["passes"] is True
    assert drafts[seeded.approved]["status"] == APPROVED

    pending = await client.get("/api/copy-drafts?status=pending", headers=BEARER)
    assert seeded.approved not in {d["id"] for d in await pending.json()}
    other = await client.get(
        f"/api/copy-drafts?campaign={OTHER_CAMPAIGN}&status=all", headers=BEARER
    )
    assert [d["id"] for d in await other.json()] == [seeded.other]


@pytest.mark.parametrize(
    "query", ["status=done", "status=PENDING", "campaign=" + "x" * 65]
)
async def test_bad_filters_are_a_400(client: TestClient, query: str) -> None:
    response = await client.get(f"/api/copy-drafts?{query}", headers=BEARER)
    assert response.status == 400
    assert "error" in await response.json()


async def test_approve_through_the_api(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    path = f"/api/copy-drafts/{seeded.passing}/approve"
    response = await client.post(path, headers=BEARER)
    assert response.status == 200
    body = await response.json()
    assert body["status"] == APPROVED and body["reviewer"] == "dashboard"
    assert stored(marketing_db, seeded.passing).status == APPROVED
    again = await client.post(path, headers=BEARER)
    assert again.status == 409
    assert "is approved" in (await again.json())["error"]


async def test_an_approval_of_a_revision_edited_since_is_a_409(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    edit = f"/api/copy-drafts/{seeded.passing}/edit"
    text = stored(marketing_db, seeded.passing).text + "欢迎来看看。"
    assert (await client.post(edit, json={"text": text}, headers=BEARER)).status == 200
    path = f"/api/copy-drafts/{seeded.passing}/approve"
    stale = await client.post(path, json={"revision": 1}, headers=BEARER)
    assert stale.status == 409
    assert "edited since you read it" in (await stale.json())["error"]
    bad = await client.post(path, json={"revision": "x"}, headers=BEARER)
    assert bad.status == 400
    fresh = await client.post(path, json={"revision": 2}, headers=BEARER)
    assert (await fresh.json())["status"] == APPROVED


async def test_the_page_approves_only_the_revision_it_showed(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    csrf = await log_in(client)
    page = await (await client.get("/copy")).text()
    assert 'name="revision" value="1"' in page
    CopyDrafts(marketing_db).edit(seeded.passing, "别人改过的文案", [], "wang")
    response = await post_form(
        client, f"/copy/{seeded.passing}/approve", csrf, revision="1"
    )
    assert response.status == 409
    assert stored(marketing_db, seeded.passing).status == "pending"


async def test_a_script_may_name_the_reviewer(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    path = f"/api/copy-drafts/{seeded.passing}/approve"
    response = await client.post(path, json={"reviewer": " 王芳 "}, headers=BEARER)
    assert response.status == 200
    assert stored(marketing_db, seeded.passing).reviewer == "王芳"


async def test_a_failing_draft_is_not_approved(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    path = f"/api/copy-drafts/{seeded.failing}/approve"
    response = await client.post(path, headers=BEARER)
    assert response.status == 409
    error = (await response.json())["error"]
    assert "failed ad_law, facts" in error and "edit it" in error
    assert stored(marketing_db, seeded.failing).status == PENDING


async def test_an_edit_is_checked_again(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    path = f"/api/copy-drafts/{seeded.passing}/edit"
    worse = await client.post(
        path, json={"text": "史上最强的抽奖！" + PASSING}, headers=BEARER
    )
    assert worse.status == 200
    body = await worse.json()
    assert body["status"] == PENDING and body["edited"] is True
    assert body["passes"] is False
    assert [f["check"] for f in body["failures"]] == ["ad_law"]

    fixed = await client.post(
        f"/api/copy-drafts/{seeded.failing}/edit",
        json={"text": f"  {PASSING}  ", "approve": True, "reviewer": "李雷"},
        headers=BEARER,
    )
    assert fixed.status == 200
    draft = stored(marketing_db, seeded.failing)
    assert (draft.status, draft.text, draft.failures) == (APPROVED, PASSING, ())
    assert draft.edited and draft.reviewer == "李雷"


async def test_an_edit_that_still_fails_is_saved_but_not_approved(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    text = FAILING.replace("999", "888")
    response = await client.post(
        f"/api/copy-drafts/{seeded.failing}/edit",
        json={"text": text, "approve": True},
        headers=BEARER,
    )
    assert response.status == 200
    body = await response.json()
    assert body["status"] == PENDING and body["text"] == text
    assert "888" in body["failures"][1]["detail"]


async def test_reject_through_the_api(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    path = f"/api/copy-drafts/{seeded.approved}/reject"
    response = await client.post(path, json={"note": "语气太硬"}, headers=BEARER)
    assert response.status == 200
    draft = stored(marketing_db, seeded.approved)
    assert (draft.status, draft.note) == (REJECTED, "语气太硬")
    assert (await client.post(path, headers=BEARER)).status == 409


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("edit", {}),
        ("edit", {"text": "   "}),
        ("edit", {"text": 42}),
        ("edit", {"text": "长" * 1001}),
        ("reject", {"note": "x" * 501}),
        ("reject", {"note": "two\nlines"}),
        ("approve", {"reviewer": "x" * 41}),
        ("approve", {"reviewer": ["a"]}),
        ("approve", ["not", "an", "object"]),
    ],
)
async def test_bad_input_is_a_400(
    client: TestClient,
    seeded: SeededDrafts,
    marketing_db: MarketingStore,
    action: str,
    body: Any,
) -> None:
    path = f"/api/copy-drafts/{seeded.passing}/{action}"
    response = await client.post(path, json=body, headers=BEARER)
    assert response.status == 400
    assert "error" in await response.json()
    assert stored(marketing_db, seeded.passing).status == PENDING


async def test_a_body_that_is_not_json_is_a_400(
    client: TestClient, seeded: SeededDrafts
) -> None:
    path = f"/api/copy-drafts/{seeded.passing}/reject"
    for body in ("note=x", "[" * 10_000, b"\xff\xfe"):
        response = await client.post(path, data=body, headers=BEARER)
        assert response.status == 400
        assert await response.json() == {"error": "the body must be JSON"}


@pytest.mark.parametrize("draft_id", [999, 2**40])
async def test_an_unknown_draft_is_a_404(client: TestClient, draft_id: int) -> None:
    for action in ("approve", "reject"):
        path = f"/api/copy-drafts/{draft_id}/{action}"
        response = await client.post(path, headers=BEARER)
        assert response.status == 404
        assert str(draft_id) in (await response.json())["error"]
    edit = await client.post(
        f"/api/copy-drafts/{draft_id}/edit", json={"text": PASSING}, headers=BEARER
    )
    assert edit.status == 404


async def test_unknown_steps_and_ids_are_not_routes(
    client: TestClient, seeded: SeededDrafts
) -> None:
    for path in (
        f"/api/copy-drafts/{seeded.passing}/delete",
        "/api/copy-drafts/x/approve",
    ):
        assert (await client.post(path, headers=BEARER)).status in (404, 405)


async def test_the_api_needs_the_token(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    step = f"/api/copy-drafts/{seeded.passing}/approve"
    for method, path in (("GET", "/api/copy-drafts"), ("POST", step)):
        missing = await client.request(method, path)
        assert missing.status == 401
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = await client.request(
            method, path, headers={"Authorization": "Bearer x"}
        )
        assert wrong.status == 403
    # A browser session reads the list, but changes drafts only through the
    # page's forms (they carry the CSRF token).
    await log_in(client)
    assert (await client.get("/api/copy-drafts")).status == 200
    assert (await client.post(step)).status == 401
    assert stored(marketing_db, seeded.passing).status == PENDING


async def test_store_down_is_a_503_not_a_traceback() -> None:
    review = StoreCopyReview(broken_store, checker())
    app = make_app(FakeSource(), TOKEN, review=review)
    async with TestClient(TestServer(app)) as c:
        listed = await c.get("/api/copy-drafts", headers=BEARER)
        assert listed.status == 503
        assert await listed.json() == {"error": "marketing store unavailable"}
        for action in ("approve", "edit", "reject"):
            response = await c.post(
                f"/api/copy-drafts/1/{action}", json={"text": PASSING}, headers=BEARER
            )
            assert response.status == 503
            assert await response.json() == {"error": "marketing store unavailable"}
        await c.post("/login", data={"token": TOKEN})
        page = await c.get("/copy")
        assert page.status == 503
        text = await page.text()
        assert 'id="unavailable"' in text
        assert "Traceback" not in text and "OperationalError" not in text


# The page and its forms


async def test_the_page_sends_strangers_to_the_login_form(client: TestClient) -> None:
    response = await client.get("/copy", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/login")


async def test_the_page_shows_the_drafts_pending_first(
    client: TestClient, seeded: SeededDrafts
) -> None:
    await log_in(client)
    response = await client.get("/copy")
    assert "Content-Security-Policy" in response.headers
    html = await response.text()
    order = [
        int(i)
        for i in re.findall(r'<article class="draft[^"]*" id="draft-(\d+)"', html)
    ]
    assert order[-1] == seeded.approved and len(order) == 5
    failing = html.split(f'id="draft-{seeded.failing}"')[1].split("</article>")[0]
    assert 'data-passes="false"' in failing
    assert "广告法" in failing and "事实核查" in failing and "999" in failing
    assert "建议改写" in failing and "disabled" in failing
    assert "不能批准" in failing
    passing = html.split(f'id="draft-{seeded.passing}"')[1].split("</article>")[0]
    assert "disabled" not in passing and "通过全部检查" in passing
    assert "qwen2.5-1.5b-instruct" in passing and "亲切" in passing
    # What the model wrote is text, never markup.
    assert "<script>" not in html and "<b>双12" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


async def test_the_page_filters_by_status_and_campaign(
    client: TestClient, seeded: SeededDrafts
) -> None:
    await log_in(client)
    approved = await (await client.get("/copy?status=approved")).text()
    assert re.findall(r'id="draft-(\d+)"', approved) == [str(seeded.approved)]
    other = await (await client.get(f"/copy?campaign={OTHER_CAMPAIGN}")).text()
    assert re.findall(r'id="draft-(\d+)"', other) == [str(seeded.other)]
    bad = await client.get("/copy?status=<b>")
    assert bad.status == 400
    assert "<b>" not in await bad.text()


async def test_the_dashboard_links_to_the_review(client: TestClient) -> None:
    await log_in(client)
    assert 'href="/copy"' in await (await client.get("/")).text()
    async with TestClient(TestServer(make_app(FakeSource(), TOKEN))) as plain:
        await plain.post("/login", data={"token": TOKEN})
        assert 'href="/copy"' not in await (await plain.get("/")).text()
        assert (await plain.get("/copy")).status == 404


async def test_approve_on_the_page(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    csrf = await log_in(client)
    response = await post_form(
        client, f"/copy/{seeded.passing}/approve", csrf, filter_status="pending"
    )
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith("/copy?status=pending&")
    assert location.endswith(f"#draft-{seeded.passing}")
    draft = stored(marketing_db, seeded.passing)
    assert (draft.status, draft.reviewer) == (APPROVED, "dashboard")
    page = await (await client.get(location)).text()
    assert f"#{seeded.passing} 已批准" in page


async def test_the_page_refuses_to_approve_a_failing_draft(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    csrf = await log_in(client)
    response = await post_form(client, f"/copy/{seeded.failing}/approve", csrf)
    assert response.status == 409
    text = await response.text()
    assert f"#{seeded.failing} 未能批准" in text and "failed ad_law, facts" in text
    assert stored(marketing_db, seeded.failing).status == PENDING
    missing = await post_form(client, "/copy/999/approve", csrf)
    assert missing.status == 404
    assert "没有草稿 #999" in await missing.text()


async def test_edit_on_the_page_is_checked_again(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    csrf = await log_in(client)
    still_failing = await post_form(
        client, f"/copy/{seeded.failing}/edit", csrf, text=FAILING, approve="1"
    )
    assert still_failing.status == 303
    assert "notice=edited-failing" in still_failing.headers["Location"]
    assert stored(marketing_db, seeded.failing).status == PENDING
    page = await (await client.get(still_failing.headers["Location"])).text()
    assert "仍未通过检查" in page

    saved = await post_form(
        client, f"/copy/{seeded.failing}/edit", csrf, text=PASSING, approve=""
    )
    assert "notice=edited&" in saved.headers["Location"]
    draft = stored(marketing_db, seeded.failing)
    assert (draft.status, draft.text, draft.failures) == (PENDING, PASSING, ())

    approved = await post_form(
        client, f"/copy/{seeded.failing}/edit", csrf, text=PASSING, approve="1"
    )
    assert "notice=approved" in approved.headers["Location"]
    assert stored(marketing_db, seeded.failing).status == APPROVED

    empty = await post_form(client, f"/copy/{seeded.failing}/edit", csrf, text=" ")
    assert empty.status == 400
    assert "不能为空" in await empty.text()


async def test_reject_on_the_page(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    csrf = await log_in(client)
    response = await post_form(
        client, f"/copy/{seeded.markup}/reject", csrf, note="<i>不像我们的语气</i>"
    )
    assert response.status == 303
    draft = stored(marketing_db, seeded.markup)
    assert (draft.status, draft.note) == (REJECTED, "<i>不像我们的语气</i>")
    page = await (await client.get("/copy?status=rejected")).text()
    assert "&lt;i&gt;不像我们的语气&lt;/i&gt;" in page


@pytest.mark.parametrize("forged", ["missing", "empty", "guess", "another session"])
async def test_a_form_without_the_sessions_csrf_token_is_refused(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore, forged: str
) -> None:
    csrf = await log_in(client)
    auth = AdminAuth(TOKEN)
    token = {
        "missing": None,
        "empty": "",
        "guess": "0" * 64,
        "another session": auth.csrf_token(auth.new_session()),
    }[forged]
    assert token != csrf
    data = {"filter_status": "", "filter_campaign": ""}
    if token is not None:
        data["csrf"] = token
    for action, extra in (("approve", {}), ("edit", {"text": PASSING}), ("reject", {})):
        response = await client.post(
            f"/copy/{seeded.passing}/{action}",
            data={**data, **extra},
            allow_redirects=False,
        )
        assert response.status == 403
        assert "CSRF" in await response.text()
    draft = stored(marketing_db, seeded.passing)
    assert (draft.status, draft.text) == (PENDING, PASSING)


async def test_a_form_without_a_session_goes_to_the_login(
    client: TestClient, seeded: SeededDrafts, marketing_db: MarketingStore
) -> None:
    csrf = await log_in(client)
    client.session.cookie_jar.clear()
    response = await post_form(client, f"/copy/{seeded.passing}/approve", csrf)
    assert (response.status, response.headers["Location"]) == (303, "/login")
    # The bearer token opens the page, but its forms need a session.
    bearer = await client.post(
        f"/copy/{seeded.passing}/approve",
        data={"csrf": csrf},
        headers=BEARER,
        allow_redirects=False,
    )
    assert bearer.status == 303 and bearer.headers["Location"] == "/login"
    assert stored(marketing_db, seeded.passing).status == PENDING
