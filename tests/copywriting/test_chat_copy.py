from __future__ import annotations

from datetime import datetime

from copywriting.chat_copy import chat_copy
from copywriting.request import CopyRequest
from marketing.copy_drafts import APPROVED, StoredDraft

REQUEST = CopyRequest("product", "ph-x5", "极光 X5", ("7.9mm 轻薄机身",), "热情")
T = datetime(2026, 12, 1)


def approved(
    draft_id: int, text: str, subject: str = "ph-x5", tone: str = "热情"
) -> StoredDraft:
    return StoredDraft(
        draft_id, "c", "v", subject, tone, None, "template", "t", text, (), "{}",
        APPROVED, False, "lin", None, T, T,
    )  # fmt: skip


def test_without_approved_copy_the_template_answers() -> None:
    copy = chat_copy(REQUEST, [], "u1")
    assert copy.variant == "template" and "极光 X5" in copy.text


def test_a_customer_always_gets_the_same_of_several_approved_copies() -> None:
    drafts = [approved(1, "甲"), approved(2, "乙"), approved(3, "丙")]
    seen = {chat_copy(REQUEST, drafts, f"u{i}").text for i in range(30)}
    assert seen == {"甲", "乙", "丙"}
    first = chat_copy(REQUEST, drafts, "u7")
    assert chat_copy(REQUEST, drafts, "u7") == first
    assert first.variant == "copy-" + str({"甲": 1, "乙": 2, "丙": 3}[first.text])


def test_copy_about_another_subject_or_tone_is_not_used() -> None:
    drafts = [
        approved(1, "别的商品", subject="ph-x5-pro"),
        approved(2, "温和版", tone="温和"),
    ]
    assert chat_copy(REQUEST, drafts, "u1").variant == "template"
