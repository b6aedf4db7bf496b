"""The review states of copy drafts, on SQLite and the real PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marketing.copy_drafts import (
    APPROVED,
    PENDING,
    REJECTED,
    CheckFailure,
    CopyDrafts,
    DraftNotFound,
    NewDraft,
    ReviewError,
)
from marketing.store import MarketingStore

DRAFT = NewDraft(
    campaign="buds-pro2-launch",
    variant="text",
    subject="au-buds-pro2",
    tone="热情",
    segment="earbud-fans",
    backend="transformers",
    model="/m/qwen",
    text="极光 Buds Pro 2 来了，自适应降噪，40 小时续航！",
    failures=(),
    brief='{"campaign": "buds-pro2-launch"}',
)
FAILING = replace(DRAFT, text="原价 899 元", failures=(CheckFailure("facts", "899"),))


@pytest.fixture(params=["sqlite", "postgresql"])
def drafts(request: pytest.FixtureRequest) -> CopyDrafts:
    name = "marketing_db" if request.param == "sqlite" else "postgres_db"
    store: MarketingStore = request.getfixturevalue(name)
    return CopyDrafts(store)


def test_drafts_are_stored_pending_with_their_failures(drafts: CopyDrafts) -> None:
    good, bad = drafts.add([DRAFT, FAILING])
    stored = drafts.get(bad)
    assert stored.status == PENDING and not stored.edited
    assert stored.failures == (CheckFailure("facts", "899"),) and not stored.passes
    assert (stored.segment, stored.model, stored.brief) == (
        "earbud-fans",
        "/m/qwen",
        DRAFT.brief,
    )
    assert [d.id for d in drafts.find("buds-pro2-launch", PENDING)] == [good, bad]
    assert drafts.find("other") == [] and drafts.find(status=APPROVED) == []


def test_only_a_passing_pending_draft_can_be_approved(drafts: CopyDrafts) -> None:
    good, bad = drafts.add([DRAFT, FAILING])
    with pytest.raises(ReviewError, match="failed facts: edit it"):
        drafts.approve(bad, "lin")
    approved = drafts.approve(good, "lin")
    assert (approved.status, approved.reviewer) == (APPROVED, "lin")
    with pytest.raises(ReviewError, match="is approved"):
        drafts.approve(good, "lin")
    with pytest.raises(DraftNotFound):
        drafts.approve(999, "lin")


def test_a_send_gets_its_segments_approved_copy_first_then_copy_for_anyone(
    drafts: CopyDrafts,
) -> None:
    first, second, other = drafts.add(
        [DRAFT, replace(DRAFT, text="第二版"), replace(DRAFT, variant="card")]
    )
    anyone, calm = drafts.add(
        [
            replace(DRAFT, segment=None, text="给所有人"),
            replace(DRAFT, segment="unhappy-recently", tone="温和", text="温和版"),
        ]
    )
    assert drafts.approved("buds-pro2-launch", "text") == []
    for draft_id in (second, first, anyone, calm):
        drafts.approve(draft_id, "lin")
    fans = [d.id for d in drafts.approved("buds-pro2-launch", "text", "earbud-fans")]
    assert sorted(fans[:2]) == [first, second] and fans[2:] == [anyone]
    # Copy written for another segment (another tone) is never sent to this one.
    assert calm not in fans
    assert [d.id for d in drafts.approved("buds-pro2-launch", "text")] == [anyone]
    warm = [d.id for d in drafts.approved_for("au-buds-pro2", "热情")]
    assert warm == [first, second, anyone]
    assert other not in warm


def test_rejecting_withdraws_and_editing_needs_a_new_approval(
    drafts: CopyDrafts,
) -> None:
    good, bad = drafts.add([DRAFT, FAILING])
    drafts.approve(good, "lin")
    rejected = drafts.reject(good, "wang", "语气太硬")
    assert (rejected.status, rejected.note, rejected.reviewer) == (
        REJECTED,
        "语气太硬",
        "wang",
    )
    assert drafts.approved("buds-pro2-launch", "text") == []
    with pytest.raises(ReviewError, match="is rejected"):
        drafts.reject(good, "wang")
    edited = drafts.edit(bad, "  极光 Buds Pro 2 到手 999 元  ", [], "lin")
    assert (edited.text, edited.status, edited.edited, edited.failures) == (
        "极光 Buds Pro 2 到手 999 元",
        PENDING,
        True,
        (),
    )
    assert drafts.approve(bad, "lin").status == APPROVED
    with pytest.raises(ReviewError, match="empty"):
        drafts.edit(bad, " ", [], "lin")
    with pytest.raises(DraftNotFound):
        drafts.edit(999, "x", [], "lin")


def test_an_approval_read_before_an_edit_does_not_approve_the_edit(
    drafts: CopyDrafts,
) -> None:
    [draft_id] = drafts.add([DRAFT])
    seen = drafts.get(draft_id)
    drafts.edit(draft_id, "改过的文案", [], "wang")
    # The reviewer approves what they saw: the edited text must not slip through.
    with pytest.raises(ReviewError, match="edited meanwhile"):
        drafts._move(seen, (PENDING,), APPROVED, "lin", None)
    assert drafts.get(draft_id).status == PENDING
