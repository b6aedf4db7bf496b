"""Offers a copy promises in words: free shipping, gifts, coupons, deadlines.

A model that writes "包邮", "买一送一" or "明天截止" promises something no number
gives away; the fact check (:mod:`copywriting.checks`) fails a draft whose offer
is not in its brief. Terms are grouped by what they promise, so the brief's
"立减 800 元" covers a draft's "直降 800 元", and a brief with an original price
or an offer period covers "直降" and "限时". Pure standard library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Promise -> (how a draft says it, what in a brief states it).
OFFER_TERMS: Mapping[str, tuple[str, str]] = {
    "包邮": (r"包邮|免运费|免邮", r"包邮|免运费|免邮"),
    "赠品": (r"赠品|赠送|加赠|买一送一|买\S{0,4}送|送好礼|好礼相送", r"赠|送"),
    "免息": (r"免息|分期", r"免息|分期"),
    "返现": (r"返现|返利|返券", r"返现|返利|返券"),
    "优惠券": (r"券|红包", r"券|红包"),
    "满减": (r"满\s*\S{1,6}\s*减", r"满\s*\S{1,6}\s*减|满减"),
    "半价": (r"半价", r"半价|第二件"),
    "秒杀": (r"秒杀", r"秒杀"),
    "抽奖": (r"抽奖|开奖|中奖", r"抽奖|开奖|中奖"),
    "以旧换新": (r"以旧换新|换新补贴|旧机回收", r"以旧换新|换新|回收"),
    "限量": (
        r"限量|前\s*\S{1,4}\s*名|仅剩|售完即止|抢完即止",
        r"限量|前\s*\S{1,4}\s*名|仅剩|售完即止|抢完即止",
    ),
    "截止": (
        r"截止|倒计时|最后一天|最后\s*\S{1,3}\s*(?:小时|天)",
        r"截止|倒计时|最后|活动时间|至\s*\d+月\d+日",
    ),
    "限时": (r"限时|限期", r"限时|限期|活动时间|\d+月\d+日"),
    "免费": (r"免费|(?<![\d.])0\s*元|零元", r"免费|(?<![\d.])0\s*元|零元"),
    "立减": (r"立减|直降|降价|减价|原价", r"立减|直降|降价|减价|原价"),
}
_COMPILED = {
    name: (re.compile(said), re.compile(stated))
    for name, (said, stated) in OFFER_TERMS.items()
}


def offers_in(text: str) -> list[str]:
    """The promises ``text`` makes, by name, in :data:`OFFER_TERMS` order."""
    return [name for name, (said, _) in _COMPILED.items() if said.search(text)]


def offers_stated(brief: str) -> set[str]:
    """The promises a brief's text states, by name."""
    return {name for name, (_, stated) in _COMPILED.items() if stated.search(brief)}
