"""WeChat's documented sample vectors decrypt and verify through our wrapper."""

from __future__ import annotations

import base64

import pytest
from wechatpy.crypto import PrpCrypto

from wechat.crypto import MessageCrypto, decode_aes_key
from wechat.errors import ConfigError, DecryptionFailed, InvalidSignature
from wechat.signature import sign
from wechat.xml_safety import parse_xml

# The official message-encryption docs (消息加解密说明) and their sample code.
SAMPLE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_TOKEN = "pamtest"
SAMPLE_APP_ID = "wxb11529c136998cb6"
SAMPLE_TIMESTAMP = "1409304348"
SAMPLE_NONCE = "xxxxxx"
SAMPLE_RANDOM = "aaaabbbbccccdddd"
SAMPLE_TEXT = "我是中文abcd123"
SAMPLE_CIPHER = (
    "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGM"
    "hkP72vVOfg=="
)
SAMPLE_XML = (
    "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName>"
    "<FromUserName><![CDATA[gh_7f083739789a]]></FromUserName>"
    "<CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType>"
    "<Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA"
    "9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title>"
    "<Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>"
)
SAMPLE_XML_CIPHER = (
    "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9u"
    "dbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9"
    "tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQ"
    "yTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB"
    "1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8"
    "+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxq"
    "IeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k"
    "+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb"
)
# The Python sample (Sample.py) of the same docs: a received message.
RECEIVED_TOKEN = "spamtest"
RECEIVED_APP_ID = "wx2c2769f8efd9abc2"
RECEIVED_TIMESTAMP = "1409735669"
RECEIVED_NONCE = "1320562132"
RECEIVED_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
RECEIVED_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUg"
    "mBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNl"
    "ZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6"
    "KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0E"
    "IBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMy"
    "VWQLCzpu9GhglF2PE="
)
RECEIVED_PLAINTEXT = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n"
    "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n"
    "<CreateTime>1409735668</CreateTime>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[abcdteT]]></Content>\n"
    "<MsgId>6054768590064713728</MsgId>\n"
    "</xml>"
)


class FixedRandomPrp(PrpCrypto):  # type: ignore[misc]
    def get_random_string(self) -> str:
        return SAMPLE_RANDOM


@pytest.mark.parametrize(
    ("plaintext", "cipher"),
    [(SAMPLE_TEXT, SAMPLE_CIPHER), (SAMPLE_XML, SAMPLE_XML_CIPHER)],
)
def test_documented_ciphertexts_are_reproduced(plaintext: str, cipher: str) -> None:
    key = decode_aes_key(SAMPLE_KEY)
    assert FixedRandomPrp(key).encrypt(plaintext, SAMPLE_APP_ID).decode() == cipher


@pytest.mark.parametrize(
    ("plaintext", "cipher"),
    [(SAMPLE_TEXT, SAMPLE_CIPHER), (SAMPLE_XML, SAMPLE_XML_CIPHER)],
)
def test_documented_ciphertexts_decrypt(plaintext: str, cipher: str) -> None:
    crypto = MessageCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_APP_ID)
    signature = sign(SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE, cipher)
    assert (
        crypto.decrypt(cipher, signature, SAMPLE_TIMESTAMP, SAMPLE_NONCE) == plaintext
    )


def test_documented_received_message_verifies_and_decrypts() -> None:
    crypto = MessageCrypto(RECEIVED_TOKEN, SAMPLE_KEY, RECEIVED_APP_ID)
    plaintext = crypto.decrypt(
        RECEIVED_ENCRYPT, RECEIVED_MSG_SIGNATURE, RECEIVED_TIMESTAMP, RECEIVED_NONCE
    )
    assert plaintext == RECEIVED_PLAINTEXT
    assert parse_xml(plaintext, 4096)["Content"] == "abcdteT"


def test_wrong_msg_signature_is_rejected() -> None:
    crypto = MessageCrypto(RECEIVED_TOKEN, SAMPLE_KEY, RECEIVED_APP_ID)
    with pytest.raises(InvalidSignature):
        crypto.decrypt(RECEIVED_ENCRYPT, "0" * 40, RECEIVED_TIMESTAMP, RECEIVED_NONCE)
    with pytest.raises(InvalidSignature):
        crypto.decrypt(RECEIVED_ENCRYPT, None, RECEIVED_TIMESTAMP, RECEIVED_NONCE)


def test_other_app_id_is_rejected() -> None:
    crypto = MessageCrypto(RECEIVED_TOKEN, SAMPLE_KEY, "wx0000000000000000")
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(
            RECEIVED_ENCRYPT, RECEIVED_MSG_SIGNATURE, RECEIVED_TIMESTAMP, RECEIVED_NONCE
        )


@pytest.mark.parametrize(
    "cipher",
    [
        RECEIVED_ENCRYPT[:-8] + "AAAAAAA=",  # last block changed: bad padding/frame
        RECEIVED_ENCRYPT[:40],  # not a whole number of blocks
        "!!!not-base64!!!",
        base64.b64encode(b"\x00" * 32).decode(),
        "",
    ],
)
def test_tampered_ciphertext_is_rejected_with_a_valid_signature(cipher: str) -> None:
    crypto = MessageCrypto(RECEIVED_TOKEN, SAMPLE_KEY, RECEIVED_APP_ID)
    signature = sign(RECEIVED_TOKEN, RECEIVED_TIMESTAMP, RECEIVED_NONCE, cipher)
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(cipher, signature, RECEIVED_TIMESTAMP, RECEIVED_NONCE)


def test_encrypted_reply_round_trips() -> None:
    crypto = MessageCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_APP_ID)
    envelope = parse_xml(
        crypto.encrypt("<xml>回复</xml>", "nonce1", "1700000000"), 4096
    )
    assert envelope["MsgSignature"] == sign(
        SAMPLE_TOKEN, "1700000000", "nonce1", envelope["Encrypt"]
    )
    assert (
        crypto.decrypt(
            envelope["Encrypt"], envelope["MsgSignature"], "1700000000", "nonce1"
        )
        == "<xml>回复</xml>"
    )


@pytest.mark.parametrize("key", ["short", SAMPLE_KEY + "A", "!" * 43])
def test_bad_aes_keys_are_config_errors(key: str) -> None:
    with pytest.raises(ConfigError):
        decode_aes_key(key)
