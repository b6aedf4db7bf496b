from __future__ import annotations

from copywriting.offer_terms import offers_in, offers_stated


def test_offers_in_words_are_named_by_what_they_promise() -> None:
    assert offers_in("全场包邮，买二送一，满300减30，明天截止") == [
        "包邮",
        "赠品",
        "满减",
        "截止",
    ]
    assert offers_in("惊喜送给你，今天就来看看") == []
    assert offers_in("立减 50 元") == ["立减"] and offers_in("只要 50 元") == []


def test_a_brief_states_an_offer_in_its_own_words() -> None:
    stated = offers_stated("价格：999 元（原价 1199 元）；活动时间：11月20日至12月11日")
    assert {"立减", "限时", "截止"} <= stated
    assert "包邮" not in stated
