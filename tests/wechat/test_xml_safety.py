"""Untrusted XML: size before parsing, UTF-8, no DOCTYPE or entities, flat <xml>."""

from __future__ import annotations

import pytest

from wechat.errors import BodyTooLarge, MalformedMessage
from wechat.xml_safety import parse_xml

LIMIT = 4096

XXE = (
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<xml><Content>&xxe;</Content></xml>"
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b"<xml><Content>&lol3;</Content></xml>"
)


def test_a_text_message_parses() -> None:
    fields = parse_xml(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><CreateTime>1</CreateTime>"
        "<Content><![CDATA[你好 <b>]]></Content></xml>".encode(),
        LIMIT,
    )
    assert fields == {"ToUserName": "gh_1", "CreateTime": "1", "Content": "你好 <b>"}


def test_one_level_of_nesting_is_flattened_and_deeper_lists_dropped() -> None:
    fields = parse_xml(
        b"<xml><ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>1</ScanResult>"
        b"</ScanCodeInfo><SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum>a"
        b"</PicMd5Sum></item></PicList></SendPicsInfo></xml>",
        LIMIT,
    )
    assert fields == {
        "ScanCodeInfo.ScanType": "qrcode",
        "ScanCodeInfo.ScanResult": "1",
        "SendPicsInfo.Count": "1",
    }


@pytest.mark.parametrize(
    "body",
    [
        XXE,
        BILLION_LAUGHS,
        b"<!doctype xml><xml></xml>",
        b'<xml><!ENTITY x "y"></xml>',
        b"<xml><Content>unclosed</xml>",
        b"<foo><Content>x</Content></foo>",
        b"<xml><a>1</a></xml><xml/>",
        b"",
        b"   \n",
        b"\xff\xfe<\x00x\x00",
        "<xml><Content>é</Content></xml>".encode("latin-1"),
        b"<xml><Content>1</Content><Content>2</Content></xml>",
        b"not xml at all",
        b"<xml>text only</xml>",
    ],
)
def test_hostile_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedMessage):
        parse_xml(body, LIMIT)


def test_size_is_checked_before_parsing() -> None:
    body = b"<xml><Content>" + b"a" * LIMIT + b"</Content></xml>"
    with pytest.raises(BodyTooLarge):
        parse_xml(body, LIMIT)
    # A body that would not parse is refused for its size, not its form.
    with pytest.raises(BodyTooLarge):
        parse_xml(b"\xff" * (LIMIT + 1), LIMIT)
