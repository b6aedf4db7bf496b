"""The prompt the model backends send: rules first, then the facts to use."""

from __future__ import annotations

from copywriting.request import CopyRequest

SYSTEM_PROMPT = "你是极光智能官方微信公众号的营销文案助手。"
RULES = (
    "要求：用中文写一段 40 到 100 字的微信推广文案。",
    "只输出文案本身，不加标题、引号或解释。",
    "只使用下面给出的事实，不编造价格、折扣、赠品、日期或其他商品。",
    "不写链接，不写“回复 TD 退订”，发送时会自动加上。",
    "不使用“最”“第一”“国家级”“顶级”“100%”等绝对化用语。",
)
KIND_NAMES = {"promotion": "优惠活动", "campaign": "营销活动", "product": "商品"}


def instructions(request: CopyRequest) -> tuple[str, ...]:
    """The instruction lines: role, rules and tone (never shown to customers)."""
    return (SYSTEM_PROMPT, *RULES, f"语气：{request.tone}。")


def facts_block(request: CopyRequest) -> str:
    """What the copy is about, as the user turn of the prompt."""
    kind = KIND_NAMES.get(request.kind, "内容")
    lines = [f"{kind}：{request.title}", *(f"- {fact}" for fact in request.facts)]
    return "\n".join(lines) + "\n文案："


def prompt_lines(request: CopyRequest) -> tuple[str, ...]:
    """The whole prompt, line by line (for plain causal LMs)."""
    return (*instructions(request), *facts_block(request).splitlines())
