"""AES safe mode: decrypt WeChat's ``Encrypt`` payloads and encrypt our replies.

A thin wrapper over ``wechatpy.crypto`` (``PrpCrypto`` and ``WeChatCrypto``): the
cipher, padding and framing are wechatpy's; the signature check is ours (constant
time, see ``wechat.signature``) and every failure of a hostile ciphertext becomes
one typed error instead of whatever wechatpy or ``cryptography`` raise.
"""

from __future__ import annotations

import base64
import binascii

from wechatpy.crypto import PrpCrypto, WeChatCrypto

from wechat.errors import ConfigError, DecryptionFailed
from wechat.signature import check_signature

# An EncodingAESKey is 43 base64 characters: 32 key bytes once "=" is appended.
AES_KEY_LENGTH = 43


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """Returns the 32-byte AES key of an EncodingAESKey.

    Raises:
        ConfigError: not 43 base64 characters.
    """
    if len(encoding_aes_key) != AES_KEY_LENGTH:
        raise ConfigError(
            f"encoding_aes_key must have {AES_KEY_LENGTH} characters "
            f"(WeChat console: 消息加解密密钥), got {len(encoding_aes_key)}"
        )
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as e:
        raise ConfigError("encoding_aes_key is not base64") from e
    if len(key) != 32:
        raise ConfigError("encoding_aes_key must decode to 32 bytes (a 256-bit key)")
    return key


class MessageCrypto:
    """Decrypts and encrypts messages of one official account in safe mode."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        self._key = decode_aes_key(encoding_aes_key)
        self._token = token
        self._app_id = app_id
        self._crypto = WeChatCrypto(token, encoding_aes_key, app_id)

    def decrypt(
        self, encrypt: str, msg_signature: str | None, timestamp: str, nonce: str
    ) -> str:
        """Checks ``msg_signature`` over the ciphertext and returns the plaintext XML.

        Args:
            encrypt: the ``Encrypt`` element of the request body.
            msg_signature: the ``msg_signature`` query parameter.
            timestamp: the ``timestamp`` query parameter.
            nonce: the ``nonce`` query parameter.

        Raises:
            InvalidSignature: ``msg_signature`` missing or wrong.
            DecryptionFailed: the ciphertext is damaged or for another AppID.
        """
        check_signature(msg_signature, self._token, timestamp, nonce, encrypt)
        try:
            plaintext: str = PrpCrypto(self._key).decrypt(encrypt, self._app_id)
        except Exception as e:  # any failure inside wechatpy means undecryptable
            # wechatpy raises InvalidAppIdException for a foreign AppID and lets
            # binascii, struct, cryptography and UTF-8 errors through otherwise.
            raise DecryptionFailed(f"cannot decrypt: {type(e).__name__}") from e
        return plaintext

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """Returns the encrypted envelope (``Encrypt``, ``MsgSignature``) of ``xml``."""
        envelope: str = self._crypto.encrypt_message(xml, nonce, timestamp)
        return envelope
