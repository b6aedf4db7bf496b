"""The default copy backend: Chinese templates filled from catalog and campaign data.

Instant, offline and predictable, so it is also the fallback of every model
backend. The tone follows the customer's mood: upbeat for a happy customer,
friendly by default, and calm with no hard sell for an unhappy one. Which of the
templates of a tone is used rotates with the subject, so a campaign does not read
the same in every chat.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from copywriting.request import DEFAULT_TONE, CopyRequest

# {title}: the subject; {fact}: its first fact; {extra}: the second fact or ''.
TEMPLATES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "promotion": {
        "热情": (
            "🎉【{title}】来啦！{fact}{extra}手慢无，喜欢就别犹豫～",
            "好消息🔥【{title}】正在进行：{fact}{extra}快来挑选心仪好物吧！",
        ),
        "亲切": (
            "给您推荐正在进行的【{title}】：{fact}{extra}有需要可以随时问小极～",
            "【{title}】进行中🎁 {fact}{extra}想了解适用商品，回复商品名就好。",
        ),
        "温和": (
            "如果您需要，【{title}】正在进行：{fact}{extra}不着急，有问题随时找小极。",
        ),
    },
    "campaign": {
        "热情": (
            "✨【{title}】火热报名中！{fact}{extra}回复“报名”留下联系方式就能参加～",
        ),
        "亲切": (
            "【{title}】正在招募～{fact}{extra}感兴趣的话回复“报名”，小极帮您登记。",
        ),
        "温和": ("有个活动供您参考：【{title}】。{fact}{extra}需要时再告诉小极就好。",),
    },
    "product": {
        "热情": (
            "💡 {title} 值得一看：{fact}{extra}现在入手正合适！",
            "{title} 人气很高🔥 {fact}{extra}回复“买”获取购买链接～",
        ),
        "亲切": (
            "为您介绍 {title}：{fact}{extra}想看详细参数回复型号即可。",
            "{title} 的亮点：{fact}{extra}有疑问随时问小极～",
        ),
        "温和": ("供您参考：{title}，{fact}{extra}您慢慢看，有需要再找小极。",),
    },
}
FALLBACK_FACT = "详情可查看公众号菜单「极光商城」。"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in "。！？!?～" else text + "。"


def render(request: CopyRequest) -> str:
    """Fills the template for the request's kind and tone."""
    by_tone = TEMPLATES.get(request.kind, TEMPLATES["product"])
    options = by_tone.get(request.tone) or by_tone[DEFAULT_TONE]
    choice = options[zlib.crc32(request.item_id.encode("utf-8")) % len(options)]
    facts = [_sentence(f) for f in request.facts if f.strip()]
    return choice.format(
        title=request.title,
        fact=facts[0] if facts else FALLBACK_FACT,
        extra=facts[1] if len(facts) > 1 else "",
    )


class TemplateGenerator:
    """The ``template`` backend (and every backend's fallback)."""

    async def generate(self, request: CopyRequest) -> str:
        """Copy for ``request`` from the templates."""
        return render(request)
