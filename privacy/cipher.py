"""Encryption at rest for personal data (phone numbers), with a key from outside.

:class:`DataCipher` is Fernet (AES-128-CBC with HMAC-SHA256, a random IV per
value, a timestamp) from ``cryptography``: the same number encrypts differently
each time and a changed ciphertext is refused, not decrypted into garbage. The
key is 32 bytes, urlsafe base64 (what :func:`generate_key` prints), and comes
from the environment (``AURORA_DATA_KEY``); a development machine without one
keeps a generated key in a file (:func:`load_or_create_key`), loudly. No Rasa.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

logger = logging.getLogger(__name__)


class CipherError(ValueError):
    """A key is unusable or a value cannot be decrypted with it."""


def generate_key() -> str:
    """A new random key: 32 bytes, urlsafe base64 (44 characters)."""
    return Fernet.generate_key().decode("ascii")


def check_key(key: str) -> None:
    """Raises :class:`CipherError` unless ``key`` is 32 urlsafe-base64 bytes."""
    try:
        Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as e:
        raise CipherError(
            "the data key must be 32 bytes in urlsafe base64 (44 characters); "
            "make one with: python -c 'from privacy.cipher import generate_key; "
            "print(generate_key())'"
        ) from e


class DataCipher:
    """Encrypts and decrypts short texts with one key.

    Args:
        key: 32 bytes, urlsafe base64.

    Raises:
        CipherError: The key is unusable.
    """

    def __init__(self, key: str) -> None:
        check_key(key)
        self._fernet = Fernet(key.encode("ascii"))

    def encrypt(self, text: str) -> str:
        """The ciphertext of ``text`` (ASCII, different on every call)."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The text ``token`` was made from.

        Raises:
            CipherError: It was made with another key, or changed since.
        """
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as e:
            raise CipherError("cannot decrypt: wrong data key or damaged value") from e


@functools.cache
def load_or_create_key(path: Path) -> str:
    """The development key kept in ``path``, generated there on first use.

    For development only: a key next to the data it protects protects little.
    Logged as a warning once per process, so nobody mistakes it for production.

    Raises:
        CipherError: The file holds no usable key, or cannot be read or written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create_key_file(path)
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError) as e:
        raise CipherError(f"cannot keep the development key in {path}: {e}") from e
    check_key(key)
    logger.warning(
        "Personal data is encrypted with the development key in %s; "
        "set AURORA_DATA_KEY (and AURORA_PROFILE=production) in production.",
        path,
    )
    return key


def _create_key_file(path: Path) -> None:
    # Written aside, then linked into place: a process starting at the same time
    # reads either no file or a whole key, and the first link wins.
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(generate_key() + "\n")
    try:
        os.link(aside, path)
        logger.warning("Generated a development data key in %s.", path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()
