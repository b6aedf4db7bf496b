"""The copy review (文案审核) of the admin server: a page and its JSON API.

- ``GET /copy?status=&campaign=``: the drafts, pending first, each with its
  failed checks (the ad-law rewrite suggested), and forms to approve (refused
  while a check fails, or when the draft was edited since the page showed it:
  the form carries the revision shown), edit (checked again; "save and
  approve" approves it if it then passes; not for a rejected draft) or reject
  it with a note. The forms post to
  ``POST /copy/{id}/approve|edit|reject`` with the session cookie and the
  session's CSRF token; the answer is the page again (303 after a step, the
  reason with 400, 403, 404 or 409 when refused).
- ``GET /api/copy-drafts?status=&campaign=``: the drafts, oldest first (bearer
  token or session);
- ``POST /api/copy-drafts/{id}/approve|edit|reject`` with a JSON body
  (``reviewer``, ``note``, ``text``, ``approve``, ``revision``: approve only
  that revision): the draft as it is now;
  bearer token only (a session posts through the page's forms, which carry the
  CSRF token). 404 for an unknown draft, 409 with the reason for a refused
  step, 400 for bad input, 503 while the store is down.

There is one admin token, so the page records the reviewer as ``dashboard``;
a script may name one (``reviewer``, at most 40 characters). Reviews go through
a :class:`~marketing.copy_review.CopyReview` in a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from marketing.copy_drafts import (
    STATUSES,
    DraftNotFound,
    ReviewError,
    StoredDraft,
)
from marketing.copy_review import CopyReview
from servers.admin_json import jsonable
from servers.admin_request import (
    AUTH_KEY,
    CSRF_FIELD,
    PAGES_KEY,
    SourceUnavailable,
    check_api,
    check_bearer,
    csrf_ok,
    html,
    in_thread,
    page_allowed,
    session_of,
)
from servers.dashboard_page import MAX_NOTE_CHARS, MAX_TEXT_CHARS, CopyReviewView

logger = logging.getLogger(__name__)

REVIEW_KEY: web.AppKey[CopyReview] = web.AppKey("copy_review")
DASHBOARD_REVIEWER = "dashboard"
MAX_REVIEWER_CHARS = 40
MAX_CAMPAIGN_CHARS = 64
# Ids beyond this are no draft (and would overflow the database's integer).
MAX_DRAFT_ID = 2**31 - 1
APPROVE, EDIT, REJECT = "approve", "edit", "reject"
ACTION_LABELS = {APPROVE: "批准", EDIT: "保存修改", REJECT: "驳回"}
REFUSED = (DraftNotFound, ReviewError)
# What the page says after a step (the redirect names the step, not the text).
NOTICES = {
    "approved": "#{id} 已批准：推送和聊天从现在起使用这条文案。",
    "rejected": "#{id} 已驳回：不会推送或展示。",
    "edited": "#{id} 已保存并重新检查，通过全部检查，等待批准。",
    "edited-failing": "#{id} 已保存，但仍未通过检查（见下方），不能批准。",
}
ACTIONS = rf"{{action:{APPROVE}|{EDIT}|{REJECT}}}"


class BadInput(ValueError):
    """A filter or a review step's field is not acceptable (a 400)."""


@dataclass(frozen=True)
class Step:
    """One review step asked for."""

    action: str
    reviewer: str
    text: str = ""
    note: str = ""
    approve: bool = False
    # The revision the reviewer read (approve): another one is refused.
    revision: int | None = None


def add_copy_review(app: web.Application, review: CopyReview) -> None:
    """Serves the copy review page and API of ``review`` from ``app``."""
    app[REVIEW_KEY] = review
    app.router.add_get("/copy", page)
    app.router.add_post(r"/copy/{id:\d+}/" + ACTIONS, form_step)
    app.router.add_get("/api/copy-drafts", api_drafts)
    app.router.add_post(r"/api/copy-drafts/{id:\d+}/" + ACTIONS, api_step)


async def page(request: web.Request) -> web.StreamResponse:
    """The review page, or the login form's address."""
    if not page_allowed(request):
        raise web.HTTPSeeOther("/login")
    try:
        campaign, status = filters(request.query)
    except BadInput as e:
        return await _page(request, None, None, error=str(e), http_status=400)
    notice = None
    code = request.query.get("notice", "")
    if code in NOTICES and request.query.get("draft", "").isdigit():
        notice = NOTICES[code].format(id=int(request.query["draft"]))
    return await _page(request, campaign, status, notice=notice)


async def form_step(request: web.Request) -> web.StreamResponse:
    """A step posted by the page's forms; the page again, or why it was refused."""
    if session_of(request) is None:
        raise web.HTTPSeeOther("/login")
    form = await request.post()
    try:
        campaign, status = filters(
            {
                "campaign": form.get("filter_campaign"),
                "status": form.get("filter_status"),
            }
        )
    except BadInput:
        campaign, status = None, None
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        logger.warning("Copy review form refused (CSRF token) from %s.", request.remote)
        error = "表单已失效（CSRF 校验未通过）：请刷新页面后重试。"
        return await _page(request, campaign, status, error=error, http_status=403)
    draft_id = _draft_id(request)
    action = request.match_info["action"]
    label = f"#{draft_id} 未能{ACTION_LABELS[action]}"
    try:
        step = parse_step(action, form, DASHBOARD_REVIEWER, named_reviewer=False)
        draft = await in_thread(request, _run(request, draft_id, step), REFUSED)
    except BadInput as e:
        return await _page(request, campaign, status, f"{label}：{e}", 400)
    except DraftNotFound:
        return await _page(request, campaign, status, f"没有草稿 #{draft_id}。", 404)
    except ReviewError as e:
        return await _page(request, campaign, status, f"{label}：{e}", 409)
    except SourceUnavailable:
        return html(request.app[PAGES_KEY].unavailable(), status=503)
    query = {"status": status or "", "campaign": campaign or ""}
    query |= {"notice": _notice(step, draft), "draft": str(draft.id)}
    raise web.HTTPSeeOther(f"/copy?{urlencode(query)}#draft-{draft.id}")


async def api_drafts(request: web.Request) -> web.StreamResponse:
    """The drafts as JSON, oldest first, filtered by ``?status=&campaign=``."""
    check_api(request)
    try:
        campaign, status = filters(request.query)
    except BadInput as e:
        return web.json_response({"error": str(e)}, status=400)
    review = request.app[REVIEW_KEY]
    try:
        drafts = await in_thread(request, lambda: review.drafts(campaign, status))
    except SourceUnavailable:
        return _store_down()
    return web.json_response([draft_json(d) for d in drafts])


async def api_step(request: web.Request) -> web.StreamResponse:
    """Approves, edits or rejects a draft for a script; the draft as it is now."""
    check_bearer(request)
    draft_id = _draft_id(request)
    try:
        body = await request.text()
        fields = json.loads(body) if body.strip() else {}
        if not isinstance(fields, dict):
            raise BadInput("the body must be a JSON object")
        step = parse_step(request.match_info["action"], fields, DASHBOARD_REVIEWER)
    except (ValueError, RecursionError) as e:  # BadInput, or no JSON
        return web.json_response({"error": _bad_body(e)}, status=400)
    try:
        draft = await in_thread(request, _run(request, draft_id, step), REFUSED)
    except DraftNotFound as e:
        return web.json_response({"error": str(e).strip("'\"")}, status=404)
    except ReviewError as e:
        return web.json_response({"error": str(e)}, status=409)
    except SourceUnavailable:
        return _store_down()
    return web.json_response(draft_json(draft))


def filters(query: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The campaign and status filters of a query (empty or ``all``: none).

    Raises:
        BadInput: An unknown status, or a campaign id too long to be one.
    """
    campaign = query.get("campaign") or None
    status = query.get("status") or None
    if campaign is not None and (
        not isinstance(campaign, str) or len(campaign) > MAX_CAMPAIGN_CHARS
    ):
        raise BadInput("campaign must be a campaign id")
    if status == "all":
        status = None
    if status is not None and status not in STATUSES:
        raise BadInput(f"status must be one of {', '.join(STATUSES)} or all")
    return campaign, status


def parse_step(
    action: str,
    fields: Mapping[str, Any],
    default_reviewer: str,
    named_reviewer: bool = True,
) -> Step:
    """The step a form or JSON body asks for.

    Args:
        action: ``approve``, ``edit`` or ``reject``.
        fields: The form's or body's fields.
        default_reviewer: Who reviews when no one is named.
        named_reviewer: Whether ``fields`` may name the reviewer.

    Raises:
        BadInput: A field is missing, of the wrong type or too long.
    """
    reviewer = default_reviewer
    if named_reviewer and fields.get("reviewer") not in (None, ""):
        reviewer = _line(fields["reviewer"], "reviewer", MAX_REVIEWER_CHARS)
    note = _line(fields.get("note") or "", "note", MAX_NOTE_CHARS)
    text = ""
    if action == EDIT:
        text = fields.get("text") or ""
        if not isinstance(text, str) or not text.strip():
            raise BadInput("修改后的文案不能为空 (text is required)")
        if len(text.strip()) > MAX_TEXT_CHARS:
            raise BadInput(f"文案最多 {MAX_TEXT_CHARS} 字 (text is too long)")
    approve = fields.get("approve") in (True, "1", "true")
    return Step(action, reviewer, text.strip(), note, approve, _revision(fields))


def _revision(fields: Mapping[str, Any]) -> int | None:
    value = fields.get("revision")
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).isdigit() or len(str(value)) > 9:
        raise BadInput("revision must be a whole number")
    return int(value)


def draft_json(draft: StoredDraft) -> dict[str, Any]:
    """A draft as the API shows it: its fields, ``passes`` and the brief parsed."""
    data: dict[str, Any] = jsonable(draft)
    data["passes"] = draft.passes
    # An unreadable brief is shown as stored (an edit says it is unreadable).
    with contextlib.suppress(ValueError):
        data["brief"] = json.loads(draft.brief)
    return data


def _run(request: web.Request, draft_id: int, step: Step) -> Callable[[], StoredDraft]:
    review = request.app[REVIEW_KEY]

    def run() -> StoredDraft:
        if step.action == APPROVE:
            draft = review.approve(draft_id, step.reviewer, step.revision)
        elif step.action == REJECT:
            draft = review.reject(draft_id, step.reviewer, step.note)
        else:
            draft = review.edit(draft_id, step.text, step.reviewer)
            if step.approve and draft.passes:
                draft = review.approve(draft_id, step.reviewer)
        logger.info(
            "Copy draft %d: %s by %s (now %s).",
            draft.id,
            step.action,
            step.reviewer,
            draft.status,
        )
        return draft

    return run


async def _page(
    request: web.Request,
    campaign: str | None,
    status: str | None,
    error: str | None = None,
    http_status: int = 200,
    notice: str | None = None,
) -> web.StreamResponse:
    review = request.app[REVIEW_KEY]
    pages = request.app[PAGES_KEY]
    try:
        drafts = await in_thread(request, review.drafts)
    except SourceUnavailable:
        return html(pages.unavailable(), status=503)
    counts = {s: sum(d.status == s for d in drafts) for s in STATUSES}
    shown = sorted(
        (
            d
            for d in drafts
            if campaign in (None, d.campaign) and status in (None, d.status)
        ),
        key=lambda d: (STATUSES.index(d.status) if d.status in STATUSES else 9, d.id),
    )
    session = session_of(request)
    view = CopyReviewView(
        drafts=shown,
        counts=counts,
        campaigns=sorted({d.campaign for d in drafts}),
        campaign=campaign,
        status=status,
        csrf=request.app[AUTH_KEY].csrf_token(session) if session else "",
        notice=notice,
        error=error,
    )
    return html(pages.copy_review(view), status=http_status)


def _draft_id(request: web.Request) -> int:
    draft_id = int(request.match_info["id"])
    if draft_id > MAX_DRAFT_ID:
        raise web.HTTPNotFound(
            text=json.dumps({"error": f"no copy draft {draft_id}"}),
            content_type="application/json",
        )
    return draft_id


def _line(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text")
    value = value.strip()
    if len(value) > limit:
        raise BadInput(f"{name} is longer than {limit} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise BadInput(f"{name} must be one line of text")
    return value


def _notice(step: Step, draft: StoredDraft) -> str:
    if step.action == REJECT:
        return "rejected"
    if draft.status == "approved":
        return "approved"
    return "edited" if draft.passes else "edited-failing"


def _bad_body(error: Exception) -> str:
    if isinstance(error, BadInput):
        return str(error)
    return "the body must be JSON"


def _store_down() -> web.Response:
    return web.json_response({"error": "marketing store unavailable"}, status=503)
