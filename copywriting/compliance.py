"""Makes generated marketing copy safe to send: legal wording, size, no prompt echo.

China's Advertising Law (广告法 art. 9(3)) forbids absolute claims such as
"国家级", "最高级", "最佳"; regulators read it to cover "最…", "第一", "顶级",
"100%" and similar. Whatever a backend writes, :func:`clean` rewrites or removes
those terms, drops any echo of the prompt and keeps the text within WeChat's
2048-byte limit for a text message. Pure standard library.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# WeChat rejects a text reply over 2048 bytes (UTF-8).
MAX_BYTES = 2048
ELLIPSIS = "…"

# Phrases rewritten so the sentence still reads; applied in order, before removal.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"最高(立减|补贴|优惠|减|省|可省|返|赠)"), r"\1可达"),
    (re.compile(r"(立减|补贴|优惠|减|省|返)最高"), r"\1可达"),
    (re.compile(r"(?:全网|史上)?最低价|全网最低|史上最低"), "优惠价"),
    (re.compile(r"最佳|最好|最优|最棒|最强"), "出色"),
    (re.compile(r"顶级|极致|顶尖|巅峰"), "出色"),
    (re.compile(r"首选"), "好选择"),
    (re.compile(r"(销量|口碑|人气|排名)第\s*[一1１](?![0-9０-９])"), r"\1领先"),
)
# Phrases that mean something else and stay ("第一时间通知您", "买第一款",
# "最后 3 小时": the last hours, not a superlative).
_ALLOWED = (
    "第一时间", "第一款", "第一件", "第一台", "第一次", "第1次", "第1件",
    "最后", "最近", "最终",
)  # fmt: skip
_ALLOWED_MARK = "\u0000{}\u0000"
# Absolute terms removed outright (longest first where they overlap).
_BANNED = re.compile(
    r"国家级|世界级|全球级|宇宙级|最高级|最[\s\u200b]*(?=\S)|第一|"
    r"第\s*[1１](?![0-9０-９])|唯一|独一无二|no\.?\s*1(?!\d)|top\s*1(?!\d)|"
    r"[1１]\s*[0０]\s*[0０]\s*[%％]|百分之一?百|百分百|绝对|万能|永久|史无前例|"
    r"无敌|王牌|全网|全国领先|遥遥领先",
    flags=re.IGNORECASE,
)
# Removing one term can join two halves of another ("国家最级"): removal runs
# until nothing changes, at most this often.
_PASSES = 5
_SPACES = re.compile(r"[ \t]{2,}")
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", flags=re.DOTALL)
_REPEATED_PUNCTUATION = re.compile(r"([，。！？、,.!?])\1+")
_EMPTY_LEADING = re.compile(r"^[，。！？、,.!?\s]+", flags=re.MULTILINE)


def banned_claims(text: str) -> list[str]:
    """The absolute claims in ``text`` that :func:`remove_banned_claims` changes.

    Args:
        text: Copy from any backend.

    Returns:
        Each offending phrase once, in order of appearance.
    """
    masked = re.sub("|".join(_ALLOWED), lambda m: "\u0000" * len(m.group(0)), text)
    found: list[tuple[int, str]] = []
    for pattern in (*(p for p, _ in _REWRITES), _BANNED):
        found += [(m.start(), m.group(0)) for m in pattern.finditer(masked)]
    phrases = list(dict.fromkeys(phrase for _, phrase in sorted(found)))
    # "全网" inside "全网最低" is one claim, named by its longer phrase.
    return [p for p in phrases if not any(p != q and p in q for q in phrases)]


def remove_banned_claims(text: str) -> str:
    """Rewrites or removes absolute advertising claims.

    Args:
        text: Copy from any backend.

    Returns:
        The copy without the terms the Advertising Law forbids.
    """
    kept: list[str] = []

    def protect(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return _ALLOWED_MARK.format(len(kept) - 1)

    text = re.sub("|".join(_ALLOWED), protect, text)
    for _ in range(_PASSES):
        before = text
        for pattern, replacement in _REWRITES:
            text = pattern.sub(replacement, text)
        text = _BANNED.sub("", text)
        if text == before:
            break
    for index, phrase in enumerate(kept):
        text = text.replace(_ALLOWED_MARK.format(index), phrase)
    text = _REPEATED_PUNCTUATION.sub(r"\1", text)
    text = _EMPTY_LEADING.sub("", text)
    return _SPACES.sub(" ", text).strip()


def strip_echo(
    text: str, prompts: Sequence[str] = (), instructions: Sequence[str] = ()
) -> str:
    """Removes the prompt and any instruction line a model repeated.

    Args:
        text: The model's output.
        prompts: The prompt it was given (and parts of it that must not be
            repeated whole, such as the facts block).
        instructions: Lines of the prompt that must never reach a customer.
    """
    # Reasoning models (Qwen3, DeepSeek-R1) may prefix their thoughts.
    text = _THINKING.sub("", text)
    for prompt in sorted(prompts, key=len, reverse=True):
        if prompt and prompt in text:
            text = text.replace(prompt, "")
    banned = {line.strip() for line in instructions if line.strip()}
    lines = [line for line in text.splitlines() if line.strip() not in banned]
    for line in banned:
        lines = [candidate.replace(line, "") for candidate in lines]
    return "\n".join(line for line in lines if line.strip()).strip()


def limit_bytes(text: str, max_bytes: int = MAX_BYTES) -> str:
    """Cuts ``text`` at a character boundary so it fits in ``max_bytes`` of UTF-8."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    budget = max_bytes - len(ELLIPSIS.encode("utf-8"))
    cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut.rstrip() + ELLIPSIS


def clean(
    text: str,
    prompts: Sequence[str] = (),
    instructions: Sequence[str] = (),
    max_bytes: int = MAX_BYTES,
) -> str:
    """Everything a copy goes through before it is sent.

    Args:
        text: Copy from any backend.
        prompts: The prompt the copy was generated from (none for templates).
        instructions: Prompt lines that must not be echoed.
        max_bytes: Size limit in UTF-8 bytes.

    Returns:
        Compliant copy ('' when nothing usable is left).
    """
    text = strip_echo(text, prompts, instructions)
    return limit_bytes(remove_banned_claims(text), max_bytes)
