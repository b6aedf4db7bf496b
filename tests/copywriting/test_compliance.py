from __future__ import annotations

import pytest

from copywriting.compliance import (
    MAX_BYTES,
    banned_claims,
    clean,
    limit_bytes,
    remove_banned_claims,
)

BANNED = ("最", "第一", "国家级", "顶级", "100%", "百分百", "唯一", "极致", "世界级")


@pytest.mark.parametrize(
    "text",
    [
        "全网最低价，销量第一的国家级顶级好手机！",
        "100%好评，最好用的耳机，唯一的选择",
        "手机最高立减 800 元，世界级影像，极致体验",
        "最最最划算！！！百分百满意",
    ],
)
def test_absolute_claims_are_removed(text: str) -> None:
    cleaned = remove_banned_claims(text)
    assert cleaned
    assert not any(term in cleaned for term in BANNED), cleaned


def test_rewrites_keep_the_sentence_readable() -> None:
    assert remove_banned_claims("手机最高立减 800 元") == "手机立减可达 800 元"
    assert remove_banned_claims("销量第一的耳机") == "销量领先的耳机"


def test_harmless_phrases_with_first_stay() -> None:
    text = "到货第一时间通知您，回复“买第一款”即可，最后 3 小时，最近上新"
    assert remove_banned_claims(text) == text
    assert banned_claims(text) == []


def test_claims_are_named_once_by_their_longest_phrase() -> None:
    text = "全网最低价！销量第一，最高立减 800 元，100%好评，第一时间发货"
    assert banned_claims(text) == ["全网最低价", "销量第一", "最高立减", "100%"]


def test_text_is_cut_to_the_byte_limit_at_a_character_boundary() -> None:
    long = "极光手机好看又好用" * 200
    cut = limit_bytes(long)
    assert len(cut.encode("utf-8")) <= MAX_BYTES
    assert cut.endswith("…") and long.startswith(cut[:-1])
    assert limit_bytes("短文案") == "短文案"


def test_prompt_and_instructions_are_never_echoed() -> None:
    prompt = "要求：写一段文案。\n商品：X5\n文案："
    output = f"{prompt}X5 轻薄好拍，欢迎了解。\n要求：写一段文案。"
    assert clean(output, [prompt], ["要求：写一段文案。"]) == "X5 轻薄好拍，欢迎了解。"


def test_a_reasoning_models_thoughts_are_dropped() -> None:
    raw = "<think>用户要文案，我想想……</think>极光耳机第二件半价，欢迎选购。"
    assert clean(raw) == "极光耳机第二件半价，欢迎选购。"
    assert clean("<think>没想完") == ""
