from __future__ import annotations

from datetime import date, datetime

from copywriting.chat_copy import chat_copy, names_a_past_day
from copywriting.request import CopyRequest
from marketing.copy_drafts import APPROVED, StoredDraft

REQUEST = CopyRequest("product", "ph-x5", "极光 X5", ("7.9mm 轻薄机身",), "热情")
T = datetime(2026, 12, 1)
TODAY = date(2026, 12, 5)


def approved(
    draft_id: int, text: str, subject: str = "ph-x5", tone: str = "热情"
) -> StoredDraft:
    return StoredDraft(
        campaign="c", variant="v", subject=subject, tone=tone, segment=None,
        backend="template", model="t", text=text, failures=(), brief="{}",
        id=draft_id, status=APPROVED, edited=False, revision=1, reviewer="lin",
        note=None, created_at=T, updated_at=T,
    )  # fmt: skip


def test_without_approved_copy_the_template_answers() -> None:
    copy = chat_copy(REQUEST, [], "u1", TODAY)
    assert copy.variant == "template" and "极光 X5" in copy.text


def test_a_customer_always_gets_the_same_of_several_approved_copies() -> None:
    drafts = [approved(1, "甲"), approved(2, "乙"), approved(3, "丙")]
    seen = {chat_copy(REQUEST, drafts, f"u{i}", TODAY).text for i in range(30)}
    assert seen == {"甲", "乙", "丙"}
    first = chat_copy(REQUEST, drafts, "u7", TODAY)
    assert chat_copy(REQUEST, drafts, "u7", TODAY) == first
    assert first.variant == "copy-" + str({"甲": 1, "乙": 2, "丙": 3}[first.text])


def test_copy_about_another_subject_or_tone_is_not_used() -> None:
    drafts = [
        approved(1, "别的商品", subject="ph-x5-pro"),
        approved(2, "温和版", tone="温和"),
    ]
    assert chat_copy(REQUEST, drafts, "u1", TODAY).variant == "template"


def test_copy_naming_a_past_day_is_stale() -> None:
    drafts = [approved(1, "11月30日前第二件半价"), approved(2, "12月12日晚8点开抢")]
    assert chat_copy(REQUEST, drafts, "u1", TODAY).text == "12月12日晚8点开抢"
    assert names_a_past_day("12月4日截止", TODAY)
    assert not names_a_past_day("12月5日截止，1月5日发货", TODAY)
    assert not names_a_past_day("5月1日", TODAY)  # next year's, not 7 months ago
    assert names_a_past_day("7月1日", TODAY)
