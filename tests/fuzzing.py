"""Hypothesis settings and strategies shared by the fuzz tests.

Every fuzz test runs derandomized (the same examples on every machine and in CI)
and keeps no example database, so nothing is written into the repository and a
failure in CI reproduces on a laptop as is.
"""

from __future__ import annotations

import base64
import string

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible settings: derandomized, no database, no per-example deadline.

    Args:
        max_examples: how many examples the test tries.
    """
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        # CI machines are slow and shared; the time limits under test are
        # asserted by the tests themselves.
        deadline=None,
        # The webhook tests serve one channel for all examples on purpose.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# Any Unicode that UTF-8 can encode (no lone surrogates: neither Sanic's query
# parsing nor the strict UTF-8 decoding of bodies can produce one).
unicode_text = st.text(st.characters(codec="utf-8"))
# Characters an XML 1.0 document may hold in text, awkward ones favoured.
xml_char = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    st.sampled_from("\t\n <>&'\"]]>\u3000\u200b\u202e\ufeff😀𠀀"),
)
xml_text = st.text(xml_char, max_size=60)
names = st.one_of(
    st.sampled_from(
        [
            "ToUserName",
            "FromUserName",
            "CreateTime",
            "MsgType",
            "Content",
            "MsgId",
            "MsgID",
            "Event",
            "EventKey",
            "Recognition",
            "Encrypt",
            "xml",
            "item",
        ]
    ),
    st.tuples(
        st.sampled_from(string.ascii_letters + "_"),
        st.text(string.ascii_letters + string.digits + "_.-", max_size=12),
    ).map("".join),
)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        name = draw(names)
        attributes = draw(
            st.lists(
                st.tuples(names, xml_text).map(
                    lambda pair: f' {pair[0]}="{_escape(pair[1])}"'
                ),
                max_size=2,
                unique=True,
            )
        )
        body = draw(st.lists(children, max_size=4))
        return f"<{name}{''.join(attributes)}>{''.join(body)}</{name}>"

    return build()


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


# Leaves: escaped text, CDATA (the "]]>" inside split as WeChat does), raw text
# that may break the document, comments, processing instructions, entity refs.
_leaf = st.one_of(
    xml_text.map(_escape),
    xml_text.map(lambda t: "<![CDATA[" + t.replace("]]>", "]]]]><![CDATA[>") + "]]>"),
    xml_text,
    xml_text.map(lambda t: f"<!--{t.replace('--', '')}-->"),
    st.sampled_from(
        ["&amp;", "&lt;", "&#20320;", "&#x1F600;", "&#0;", "&bogus;", "&", "<?pi x?>"]
    ),
)
xml_trees = st.recursive(_leaf, _element, max_leaves=12)


@st.composite
def xml_documents(draw: st.DrawFn) -> str:
    """Documents shaped like WeChat's: a declaration or not, ``<xml>`` or not."""
    prolog = draw(
        st.sampled_from(
            [
                "",
                '<?xml version="1.0" encoding="utf-8"?>',
                '<?xml version="1.0" encoding="gbk"?>',
                "\ufeff",
                "  \n",
            ]
        )
    )
    root = draw(st.sampled_from(["xml", "xml", "xml", "XML", "message"]))
    fields = draw(st.lists(xml_trees, max_size=8))
    return f"{prolog}<{root}>{''.join(fields)}</{root}>"


# Entity tricks in every spelling the filter and the parser might disagree on.
BOMB_PARTS = [
    '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    '<!DOCTYPE xml SYSTEM "file:///etc/passwd">',
    '<!doctype xml [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
    '<! DOCTYPE xml [ <!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p; ]>',
    "<!ENTITY x 'y'>",
    '<!DOCTYPE\nxml PUBLIC "-//X//DTD X//EN" "http://127.0.0.1:9/x.dtd">',
    '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>',
]


@st.composite
def xml_bombs(draw: st.DrawFn) -> str:
    """A WeChat-like message with an entity trick before or inside it."""
    trick = draw(st.sampled_from(BOMB_PARTS))
    reference = draw(st.sampled_from(["&c;", "&x;", "&p;", "", "&a;" * 50]))
    before = draw(st.booleans())
    message = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName>"
        f"<CreateTime>1</CreateTime><MsgType>text</MsgType>"
        f"<Content>{reference}</Content></xml>"
    )
    return trick + message if before else message.replace("<Content>", trick, 1)


def deep_nesting(depth: int) -> str:
    """``depth`` nested elements inside ``<xml>``."""
    return "<xml>" + "<a>" * depth + "x" + "</a>" * depth + "</xml>"


base64_text = st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())
