from __future__ import annotations

import pytest

from copywriting.request import CopyRequest, tone_for
from copywriting.templates import TemplateGenerator, render


def _request(kind: str = "promotion", tone: str = "亲切") -> CopyRequest:
    return CopyRequest(
        kind=kind,
        item_id="promo-x",
        title="耳机第二件半价",
        facts=("任选两副极光耳机，第二件半价", "活动至 11/30"),
        tone=tone,
    )


@pytest.mark.parametrize("kind", ["promotion", "campaign", "product", "other"])
@pytest.mark.parametrize("tone", ["热情", "亲切", "温和", "unknown"])
async def test_every_kind_and_tone_renders_the_facts(kind: str, tone: str) -> None:
    text = await TemplateGenerator().generate(_request(kind, tone))
    assert "耳机第二件半价" in text and "第二件半价。" in text
    assert "{" not in text


def test_tone_follows_sentiment() -> None:
    assert tone_for("negative") == "温和"
    assert tone_for("positive") == "热情"
    assert tone_for(None) == tone_for("neutral") == "亲切"


def test_an_unhappy_customer_gets_no_hard_sell() -> None:
    calm = render(_request("product", tone_for("negative")))
    assert "手慢无" not in calm and "入手" not in calm


def test_without_facts_the_copy_still_reads() -> None:
    request = CopyRequest(kind="product", item_id="p", title="极光 A3", facts=())
    assert "极光商城" in render(request)
