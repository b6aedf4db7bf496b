"""Fuzzing the WeChat protocol: only the documented typed errors may escape.

``wechat.signature``, ``wechat.crypto`` and ``wechat.xml_safety`` take what an
attacker sends. For any input each function returns its documented value or
raises the typed error its docstring names (``InvalidSignature``,
``StaleTimestamp``, ``DecryptionFailed``, ``ConfigError``, ``MalformedMessage``,
``BodyTooLarge``); anything else would reach the webhook's catch-all boundary.
The whole webhook is fuzzed in ``tests/channels/test_webhook_fuzz.py``.
"""

from __future__ import annotations

import base64
import random
import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzzing import (
    base64_text,
    deep_nesting,
    fuzz_settings,
    unicode_text,
    xml_bombs,
    xml_documents,
)
from tests.wechat.fakes import AES_KEY, APP_ID, TOKEN
from wechat.crypto import AES_KEY_LENGTH, MessageCrypto, decode_aes_key
from wechat.errors import (
    BodyTooLarge,
    ConfigError,
    DecryptionFailed,
    InvalidSignature,
    MalformedMessage,
    StaleTimestamp,
)
from wechat.signature import check_signature, check_timestamp, sign, verify_request
from wechat.xml_safety import parse_xml

NOW = 1_700_000_000.0
WINDOW_S = 300.0
LIMIT = 65536
CRYPTO = MessageCrypto(TOKEN, AES_KEY, APP_ID)
OTHER_CRYPTO = MessageCrypto(TOKEN, "A" * 42 + "E", "wx_other_app_id_")
SHA1_HEX = set(string.hexdigits.lower())

timestamps = st.one_of(
    unicode_text,
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.integers(min_value=int(NOW) - 600, max_value=int(NOW) + 600).map(str),
    st.sampled_from(["", " 1700000000 ", "1_700_000_000", "١٧٠٠٠٠٠٠٠٠", "1e9"]),
)


# --- signature ----------------------------------------------------------------------


@fuzz_settings(300)
@given(st.lists(unicode_text, max_size=5), st.randoms(use_true_random=False))
def test_sign_is_sha1_hex_of_the_parts_in_any_order(
    parts: list[str], rng: random.Random
) -> None:
    signature = sign(*parts)
    assert len(signature) == 40 and set(signature) <= SHA1_HEX
    shuffled = list(parts)
    rng.shuffle(shuffled)
    assert sign(*shuffled) == signature


@fuzz_settings(400)
@given(
    st.one_of(
        st.none(),
        unicode_text,
        st.text("0123456789abcdefABCDEF", min_size=40, max_size=40),
    ),
    unicode_text,
    st.lists(unicode_text, max_size=3),
)
def test_check_signature_accepts_only_the_right_one(
    signature: str | None, token: str, parts: list[str]
) -> None:
    check_signature(sign(token, *parts), token, *parts)
    try:
        check_signature(signature, token, *parts)
    except InvalidSignature:
        return
    assert signature == sign(token, *parts)


@fuzz_settings(400)
@given(timestamps)
@example("9" * 5000)  # beyond int()'s digit limit: ValueError, not an overflow
def test_check_timestamp_raises_only_stale_timestamp(timestamp: str) -> None:
    try:
        check_timestamp(timestamp, WINDOW_S, now=NOW)
    except StaleTimestamp:
        return
    assert abs(int(timestamp) - NOW) <= WINDOW_S


def test_check_timestamp_of_a_huge_number_is_stale() -> None:
    with pytest.raises(StaleTimestamp):
        check_timestamp("1" + "0" * 400, WINDOW_S, now=NOW)


def _beyond_float(timestamp: str) -> bool:
    try:
        return abs(int(timestamp)) > 10**300
    except ValueError:
        return False


@fuzz_settings(400)
@given(
    st.one_of(st.none(), unicode_text),
    st.one_of(st.none(), timestamps),
    st.one_of(st.none(), unicode_text),
    st.booleans(),
)
def test_verify_request_raises_only_rejections(
    signature: str | None, timestamp: str | None, nonce: str | None, signed: bool
) -> None:
    if signed and timestamp is not None and nonce is not None:
        signature = sign(TOKEN, timestamp, nonce)
    if timestamp is not None and _beyond_float(timestamp):
        return  # test_check_timestamp_of_a_huge_number_is_stale
    try:
        verify_request(TOKEN, signature, timestamp, nonce, WINDOW_S, now=NOW)
    except (InvalidSignature, StaleTimestamp):
        return
    assert timestamp and nonce and signature == sign(TOKEN, timestamp, nonce)


# --- crypto -------------------------------------------------------------------------


@fuzz_settings(300)
@given(
    st.one_of(
        unicode_text,
        st.text(string.ascii_letters + string.digits + "+/=", min_size=43, max_size=43),
    )
)
@example("=" * 43)
@example(AES_KEY[:-1] + "é")
def test_decode_aes_key_gives_32_bytes_or_config_error(key: str) -> None:
    if key.endswith("="):
        return  # test_an_aes_key_ending_in_padding_is_a_config_error
    try:
        decoded = decode_aes_key(key)
    except ConfigError:
        return
    assert len(key) == AES_KEY_LENGTH and len(decoded) == 32


def test_an_aes_key_ending_in_padding_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        decode_aes_key("0" * 42 + "=")


@fuzz_settings(300)
@given(unicode_text, st.text(string.digits, min_size=1, max_size=12))
def test_encrypt_then_decrypt_is_the_identity(xml: str, nonce: str) -> None:
    stamp = str(int(NOW))
    envelope = parse_xml(CRYPTO.encrypt(xml, nonce, stamp), 1 << 22)
    assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    plaintext = CRYPTO.decrypt(
        envelope["Encrypt"], envelope["MsgSignature"], stamp, nonce
    )
    assert plaintext == xml


def _envelope(xml: str) -> str:
    return parse_xml(CRYPTO.encrypt(xml, "1", "1"), 1 << 20)["Encrypt"]


VALID = _envelope("<xml><Content>你好</Content></xml>")
FOREIGN = parse_xml(OTHER_CRYPTO.encrypt("<xml/>", "1", "1"), 1 << 20)["Encrypt"]


@st.composite
def damaged_ciphertexts(draw: st.DrawFn) -> str:
    """Valid ciphertexts cut, bit-flipped, re-padded or of another account."""
    raw = base64.b64decode(VALID)
    how = draw(st.sampled_from(["cut", "flip", "extend", "pad", "foreign", "random"]))
    if how == "cut":
        damaged = raw[: draw(st.integers(0, len(raw) - 1))]
    elif how == "flip":
        index = draw(st.integers(0, len(raw) - 1))
        bit = 1 << draw(st.integers(0, 7))
        damaged = raw[:index] + bytes([raw[index] ^ bit]) + raw[index + 1 :]
    elif how == "extend":
        damaged = raw + draw(st.binary(min_size=1, max_size=48))
    elif how == "pad":
        return VALID.rstrip("=") + draw(st.sampled_from(["", "=", "==", "===", "A"]))
    elif how == "foreign":
        return FOREIGN
    else:
        return draw(st.one_of(base64_text, unicode_text))
    return base64.b64encode(damaged).decode()


@fuzz_settings(600)
@given(damaged_ciphertexts(), st.booleans(), unicode_text)
def test_decrypt_raises_only_its_typed_errors(
    encrypt: str, signed: bool, msg_signature: str
) -> None:
    if signed:
        msg_signature = sign(TOKEN, "1", "1", encrypt)
    try:
        plaintext = CRYPTO.decrypt(encrypt, msg_signature, "1", "1")
    except (InvalidSignature, DecryptionFailed):
        return
    # CBC has no integrity: damage to the last blocks may still decrypt.
    assert signed and isinstance(plaintext, str)


def test_a_foreign_app_id_is_refused() -> None:
    foreign = MessageCrypto(TOKEN, AES_KEY, "wx_not_ours_0000")
    encrypt = parse_xml(foreign.encrypt("<xml/>", "1", "1"), 1 << 20)["Encrypt"]
    with pytest.raises(DecryptionFailed):
        CRYPTO.decrypt(encrypt, sign(TOKEN, "1", "1", encrypt), "1", "1")


# --- XML ----------------------------------------------------------------------------


def _parses_or_is_refused(body: bytes | str, limit: int = LIMIT) -> dict[str, str]:
    try:
        fields = parse_xml(body, limit)
    except (MalformedMessage, BodyTooLarge):
        return {}
    assert isinstance(fields, dict)
    for name, value in fields.items():
        assert isinstance(name, str) and isinstance(value, str)
        assert not name.startswith("@")
    return fields


@fuzz_settings(800)
@given(xml_documents())
def test_parse_xml_of_documents_gives_text_fields_or_a_typed_error(doc: str) -> None:
    _parses_or_is_refused(doc)
    _parses_or_is_refused(doc.encode("utf-8"))


@fuzz_settings(500)
@given(st.one_of(st.binary(max_size=400), unicode_text))
def test_parse_xml_of_anything_gives_text_fields_or_a_typed_error(
    body: bytes | str,
) -> None:
    _parses_or_is_refused(body)


@fuzz_settings(200)
@given(xml_bombs())
def test_entity_tricks_are_refused(bomb: str) -> None:
    if "<!" in bomb:
        with pytest.raises(MalformedMessage):
            parse_xml(bomb, LIMIT)
    else:  # XInclude is not processed: the href stays an attribute
        assert "root:" not in str(_parses_or_is_refused(bomb))


@fuzz_settings(100)
@given(st.integers(min_value=0, max_value=200), st.binary(min_size=1, max_size=64))
def test_the_size_limit_comes_first(limit: int, chunk: bytes) -> None:
    body = chunk * (limit // len(chunk) + 1)
    with pytest.raises(BodyTooLarge):
        parse_xml(body, limit)


@pytest.mark.parametrize("depth", [1, 100, 5000, LIMIT // 8])
def test_deep_nesting_is_flattened_or_refused(depth: int) -> None:
    fields = _parses_or_is_refused(deep_nesting(depth))
    assert fields == ({"a": "x"} if depth == 1 else {})
