"""Replies in WeChat's forms: 2048-byte texts, menus, passive XML, API bodies."""

from __future__ import annotations

import pytest

from wechat.rendering import (
    MAX_TEXT_BYTES,
    Article,
    ImageOut,
    NewsOut,
    TextOut,
    customer_service_bodies,
    merge_texts,
    numbered_menu,
    passive_reply,
    split_utf8,
    transfer_reply,
)
from wechat.xml_safety import parse_xml


@pytest.mark.parametrize(
    "text",
    [
        "中" * 2000,  # 3 bytes each
        "a" * 5000,
        "😀" * 1000,  # 4 bytes each
        ("a" * 2047) + "中文",  # the cut falls inside a multi-byte character
        "第一行\n" * 800,
    ],
)
def test_split_utf8_respects_the_byte_limit_and_characters(text: str) -> None:
    pieces = split_utf8(text)
    assert all(len(p.encode("utf-8")) <= MAX_TEXT_BYTES for p in pieces)
    assert "".join(pieces) == text
    assert (
        len(pieces) == -(-len(text.encode("utf-8")) // MAX_TEXT_BYTES) or "\n" in text
    )


def test_split_utf8_keeps_short_text_whole_and_drops_empty() -> None:
    assert split_utf8("你好") == ["你好"]
    assert split_utf8("") == []
    assert split_utf8("a" * 2048) == ["a" * 2048]


def test_numbered_menu() -> None:
    text, choices = numbered_menu(
        "要登记吗？",
        [
            {"title": "好的", "payload": "/affirm"},
            {"title": "不用了", "payload": "/deny"},
        ],
    )
    assert text.splitlines()[:3] == ["要登记吗？", "1. 好的", "2. 不用了"]
    assert choices == {"1": "/affirm", "2": "/deny"}


def test_passive_text_reply_is_safe_xml() -> None:
    xml = passive_reply(TextOut("a]]><x>b"), "o_user", "gh_a", now=1700000000)
    fields = parse_xml(xml, 8192)
    assert fields == {
        "MsgType": "text",
        "Content": "a]]><x>b",
        "FromUserName": "gh_a",
        "ToUserName": "o_user",
        "CreateTime": "1700000000",
    }


def test_passive_image_and_news() -> None:
    image = parse_xml(passive_reply(ImageOut("media-1"), "o", "gh"), 8192)
    assert image["MsgType"] == "image" and image["Image.MediaId"] == "media-1"
    news = passive_reply(
        NewsOut((Article("X5 Pro", "新品", "https://u", "https://p"),)), "o", "gh"
    )
    assert (
        "<ArticleCount>1</ArticleCount>" in news
        and "<Title><![CDATA[X5 Pro]]></Title>" in news
    )


def test_customer_service_bodies() -> None:
    assert customer_service_bodies(TextOut("hi"), "o") == [
        {"msgtype": "text", "text": {"content": "hi"}, "touser": "o"}
    ]
    assert customer_service_bodies(ImageOut("m"), "o")[0]["image"] == {"media_id": "m"}
    news = customer_service_bodies(NewsOut((Article("a"), Article("b"))), "o")
    assert [b["news"]["articles"][0]["title"] for b in news] == ["a", "b"]


def test_merge_texts_for_passive_only_mode() -> None:
    assert merge_texts([TextOut("a"), ImageOut("m"), TextOut("b")]) == [
        TextOut("a\n\nb")
    ]
    merged = merge_texts([TextOut("中" * 682), TextOut("中" * 682)])
    assert len(merged) == 1
    content = merged[0].content if isinstance(merged[0], TextOut) else ""
    assert len(content.encode()) <= MAX_TEXT_BYTES and content.endswith("…")
    assert merge_texts([ImageOut("m")]) == []


async def test_carousels_and_news_become_one_message_per_article() -> None:
    from channels.output import WeChatCollector
    from rich_reply import Article, News, to_json

    collector = WeChatCollector()
    await collector.send_response(
        "o",
        {
            "custom": to_json(
                News((Article("a", "https://s/a"), Article("b", "https://s/b")))
            )
        },
    )
    await collector.send_elements("o", [{"title": "c", "subtitle": "d"}])
    titles = [m.articles[0].title for m in collector.messages if isinstance(m, NewsOut)]
    assert titles == ["a", "b", "c"]
    assert all(
        isinstance(m, NewsOut) and len(m.articles) == 1 for m in collector.messages
    )


def test_transfer_reply_hands_the_message_to_an_agent() -> None:
    xml = transfer_reply("o_user", "gh_a", now=1_700_000_000)
    assert parse_xml(xml, 4096) == {
        "ToUserName": "o_user",
        "FromUserName": "gh_a",
        "CreateTime": "1700000000",
        "MsgType": "transfer_customer_service",
    }
