from __future__ import annotations

import json
from typing import Any

import pytest

from rich_reply import (
    KEY,
    KINDS,
    MAX_ARTICLES,
    Article,
    Choice,
    Choices,
    Image,
    LinkCard,
    News,
    PayloadError,
    RichReply,
    from_json,
    to_json,
)

EXAMPLES: dict[str, RichReply] = {
    "news": News(
        (
            Article("极光 X5 ¥3,999", "https://s.cn/x5", "轻薄", "https://c/x5.png"),
            Article("极光 Buds", "https://s.cn/buds"),
        )
    ),
    "choices": Choices(
        "想看哪一类？",
        (Choice("手机", '/request_recommendation{"product_category": "手机"}'),),
    ),
    "image": Image(url="https://c/x5.png"),
    "link": LinkCard(
        "双12预约", "https://s.cn/d12", "提前锁定优惠", "https://c/d12.png"
    ),
}


def test_every_kind_has_an_example() -> None:
    assert set(EXAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_survives_json(kind: str) -> None:
    reply = EXAMPLES[kind]
    encoded = to_json(reply)

    # What an action sends must pass through JSON (rasa-sdk, the REST channel).
    decoded = from_json(json.loads(json.dumps(encoded, ensure_ascii=False)))

    assert encoded[KEY]["kind"] == kind
    assert decoded == reply


def test_media_id_images_and_the_documented_shape() -> None:
    assert from_json({KEY: {"kind": "image", "media_id": "M1"}}) == Image(media_id="M1")
    assert to_json(EXAMPLES["news"])[KEY]["articles"][1] == {
        "title": "极光 Buds",
        "url": "https://s.cn/buds",
        "description": "",
        "picurl": "",
    }


def test_custom_json_without_a_rich_reply_is_none() -> None:
    assert from_json({"foo": 1}) is None


@pytest.mark.parametrize(
    "body",
    [
        "news",
        {"kind": "carousel"},
        {"kind": "news", "articles": []},
        {"kind": "news", "articles": "x"},
        {"kind": "news", "articles": [{"title": "no url"}]},
        {"kind": "news", "articles": ["x"]},
        {"kind": "choices", "text": "?", "choices": []},
        {"kind": "choices", "text": "", "choices": [{"title": "a", "payload": "/a"}]},
        {"kind": "image"},
        {"kind": "image", "url": "https://c/a.png", "media_id": "M"},
        {"kind": "link", "title": " ", "url": "https://s"},
    ],
)
def test_malformed_rich_replies_are_refused(body: Any) -> None:
    with pytest.raises(PayloadError):
        from_json({KEY: body})


def test_news_holds_at_most_the_articles_wechat_shows() -> None:
    article = Article("a", "https://s/a")
    assert len(News((article,) * MAX_ARTICLES).articles) == MAX_ARTICLES
    with pytest.raises(PayloadError):
        News((article,) * (MAX_ARTICLES + 1))
