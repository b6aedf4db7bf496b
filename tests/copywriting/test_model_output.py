from __future__ import annotations

import pytest

from copywriting.model_output import copy_in

COPY = "极光 Buds Pro 2 新品上市！自适应降噪，现价 999 元，通勤出差都安静～"


@pytest.mark.parametrize(
    "answer",
    [
        f"好的，以下是为您撰写的文案：\n{COPY}",
        f"**文案**：{COPY}",
        f"微信推广文案\n{COPY}",
        f"标题：新品上市\n正文：{COPY}",
        f"文案一：\n{COPY}\n文案二：\n另一条",
        f"1. {COPY}\n2. 另一条",
        f"{COPY}\n这段文案突出了产品的降噪功能。",
        f"{COPY}\n（注：字数 40 字）",
        f"```\n{COPY}\n```",
        f"“{COPY}”",
        f"{COPY} #极光 #降噪耳机",
        f"Copy: {COPY}",
        f"#{COPY}",
        f"本条要点：{COPY}",
    ],
)
def test_the_copy_is_kept_and_what_surrounds_it_dropped(answer: str) -> None:
    assert copy_in(answer) == COPY


def test_quotes_inside_the_copy_stay() -> None:
    quoted = "“极光 Buds Pro 2”来了，“安静”随身"
    assert copy_in(quoted) == quoted


def test_a_tag_sign_without_space_is_not_a_trailing_tag() -> None:
    assert (
        copy_in("#年终大促！全场直降，快来看看吧") == "年终大促！全场直降，快来看看吧"
    )
