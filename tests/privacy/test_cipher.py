from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from privacy.cipher import (
    CipherError,
    DataCipher,
    check_key,
    generate_key,
    load_or_create_key,
)


def test_round_trip_with_a_fresh_iv_each_time() -> None:
    cipher = DataCipher(generate_key())
    first, second = cipher.encrypt("13812345678"), cipher.encrypt("13812345678")
    assert first != second and "13812345678" not in first
    assert cipher.decrypt(first) == cipher.decrypt(second) == "13812345678"


def test_another_key_or_a_changed_value_is_refused() -> None:
    token = DataCipher(generate_key()).encrypt("13812345678")
    with pytest.raises(CipherError):
        DataCipher(generate_key()).decrypt(token)
    cipher = DataCipher(generate_key())
    token = cipher.encrypt("13812345678")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(CipherError):
        cipher.decrypt(tampered)
    with pytest.raises(CipherError):
        cipher.decrypt("not a token")


@pytest.mark.parametrize(
    "key", ["", "short", "x" * 44, "密钥" * 22, generate_key()[:-2]]
)
def test_unusable_keys_are_refused_with_how_to_make_one(key: str) -> None:
    with pytest.raises(CipherError, match="generate_key"):
        check_key(key)
    with pytest.raises(CipherError):
        DataCipher(key)


def test_the_development_key_is_generated_once_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "runtime" / "data.key"
    with caplog.at_level(logging.WARNING):
        key = load_or_create_key(path)
    check_key(key)
    assert "development key" in caplog.text
    assert os.stat(path).st_mode & 0o777 == 0o600
    load_or_create_key.cache_clear()
    assert load_or_create_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["data.key"]


def test_a_damaged_development_key_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    path.write_text("not a key\n", encoding="ascii")
    with pytest.raises(CipherError):
        load_or_create_key(path)
