"""Parse untrusted WeChat XML safely: size first, then UTF-8, then entity-free XML.

WeChat's messages are a flat ``<xml>`` element of short text fields. Anything else
(a DOCTYPE, an entity declaration, another root, nested or repeated fields, bytes
that are not UTF-8, an oversized body) is rejected with ``MalformedMessage`` or
``BodyTooLarge`` before it can cost memory or read files.
"""

from __future__ import annotations

import re
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict

from wechat.errors import BodyTooLarge, MalformedMessage

# Refused before the parser sees the text: external entities and entity expansion
# ("billion laughs") both need a DOCTYPE or an ENTITY declaration.
_FORBIDDEN = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
ROOT = "xml"


def check_size(body: bytes, limit: int) -> None:
    """Raises ``BodyTooLarge`` when ``body`` has more than ``limit`` bytes."""
    if len(body) > limit:
        raise BodyTooLarge(f"body of {len(body)} bytes is over the {limit}-byte limit")


def parse_xml(body: bytes | str, limit: int) -> dict[str, str]:
    """Parses a WeChat message into a flat ``{field: text}`` dict.

    Nested elements (``ScanCodeInfo``, ``SendLocationInfo``...) are flattened one
    level as ``Parent.Child``; deeper structure and repeated fields are refused.

    Args:
        body: the raw request body, or decrypted text.
        limit: the largest accepted size in bytes.

    Raises:
        BodyTooLarge: over ``limit`` (checked before anything else).
        MalformedMessage: empty, not UTF-8, DOCTYPE/ENTITY, not well formed, wrong
            root element, or fields that are not text.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    check_size(raw, limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MalformedMessage("body is not UTF-8") from e
    if not text.strip():
        raise MalformedMessage("body is empty")
    if _FORBIDDEN.search(text):
        raise MalformedMessage("DOCTYPE and ENTITY declarations are not accepted")
    try:
        document = xmltodict.parse(text, disable_entities=True)
    except (ExpatError, ValueError) as e:
        raise MalformedMessage(f"not well-formed XML: {e}") from e
    if not isinstance(document, dict) or list(document) != [ROOT]:
        raise MalformedMessage(f"the root element must be <{ROOT}>")
    return _flatten(document[ROOT])


def _flatten(root: Any) -> dict[str, str]:
    if root is None:
        return {}
    if not isinstance(root, dict):
        raise MalformedMessage("<xml> must contain elements")
    fields: dict[str, str] = {}
    for name, value in root.items():
        if name.startswith("@"):
            continue
        if isinstance(value, dict) and not _is_text(value):
            # One level of structure is kept; deeper lists (SendPicsInfo.PicList)
            # carry nothing the channel uses.
            for child, inner in value.items():
                if isinstance(inner, str) or inner is None or _is_text(inner):
                    fields[f"{name}.{child}"] = _text(inner, f"{name}.{child}")
        else:
            fields[name] = _text(value, name)
    return fields


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if _is_text(value):
        return str(value.get("#text", ""))
    raise MalformedMessage(f"field {name} is not a single text value")


def _is_text(value: Any) -> bool:
    """True for xmltodict's form of a text element with attributes."""
    return isinstance(value, dict) and all(
        key == "#text" or key.startswith("@") for key in value
    )
