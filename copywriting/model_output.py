"""The copy in a model's answer, without what chat models put around it.

Instruction-tuned models (Qwen among them) like to answer "好的，以下是为您撰写
的文案：", label the copy ("文案：", "Copy:"), wrap it in markdown, quotes or a
code fence, offer numbered options, add hashtags and explain themselves after
it ("这段文案突出了…", "（注：字数 52 字）"). :func:`copy_in` keeps the copy: the
first option, without the rest. What it cannot tell apart stays, and the
``format`` check (:mod:`copywriting.checks`) shows it to the marketer. Pure
standard library.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*```.*$", flags=re.MULTILINE)
_PREAMBLE = re.compile(
    r"^\s*(?:(?:好的|当然|没问题|以下是|下面是|这是)[^\n]*[:：]"
    r"|[#*\s]*(?:微信)?(?:推广)?文案[*\s]*|标题\s*[:：].*)\s*$"
)
_EXPLANATION = re.compile(
    r"^\s*(?:这段文案|这条文案|以上|希望|注[:：]|[（(]\s*注|说明[:：]|字数)"
)
_OPTION = re.compile(
    r"^\s*(?:(?:文案|版本|选项)\s*[一二三四五\d]+\s*[:：]|\d+\s*[.、)）]|[一二三四五]\s*[、.])\s*"
)
_LABEL = re.compile(
    r"^\s*[#*>\s]*(?:(?:微信)?(?:推广)?文案|正文|copy)\s*[:：][*\s]*",
    flags=re.IGNORECASE,
)
_MARKDOWN = re.compile(r"\*\*|__|^\s*#{1,6}\s+|^\s*[-*•]\s+", flags=re.MULTILINE)
# Trailing topic tags ("… #极光 #降噪耳机"), and a tag sign opening the copy.
_HASHTAGS = re.compile(r"(?:\s+#[^\s#]{1,12}#?)+\s*$")
_LEADING_TAG = re.compile(r"^#+(?=[^\s#])")
# The label of the brief's angle ("本条要点：…"), which a model may copy.
_BRIEF_LABEL = re.compile(r"本条要点\s*[:：]\s*")
_PAIRS = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』"}
_BLANK_LINES = re.compile(r"\n\s*\n+")


def copy_in(answer: str) -> str:
    """The copy in ``answer`` ('' when nothing is left)."""
    lines = [line for line in _FENCE.sub("", answer).splitlines() if line.strip()]
    while lines and _PREAMBLE.match(lines[0]):
        lines = lines[1:]
    kept: list[str] = []
    for line in lines:
        if _EXPLANATION.match(line):
            break  # the model explains its copy: the copy has ended
        if _OPTION.match(line):
            if kept:
                break  # the second option: the first one is the draft
            line = _OPTION.sub("", line)
            if not line.strip():
                continue  # "文案一：" alone on its line
        kept.append(line)
    text = _LABEL.sub("", _MARKDOWN.sub("", "\n".join(kept)))
    text = _HASHTAGS.sub("", _unquoted(text.strip()))
    text = _BRIEF_LABEL.sub("", _LEADING_TAG.sub("", text.strip()))
    return _BLANK_LINES.sub("\n", text).strip()


def _unquoted(text: str) -> str:
    """``text`` without quotes around all of it (a quote inside stays)."""
    while len(text) >= 2 and _PAIRS.get(text[0]) == text[-1]:
        inner = text[1:-1].strip()
        if text[0] in inner or text[-1] in inner:
            break  # "“A”和“B”" is quoted twice, not once around all of it
        text = inner
    return text
