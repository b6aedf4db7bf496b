"""Request signatures: WeChat's algorithm, constant-time comparison, time window."""

from __future__ import annotations

import hashlib

import pytest
from wechatpy.utils import check_signature as wechatpy_check

from wechat.errors import InvalidSignature, StaleTimestamp
from wechat.signature import check_timestamp, sign, verify_request

NOW = 1_700_000_000


def test_sign_matches_wechatpy_and_the_documented_algorithm() -> None:
    expected = hashlib.sha1(
        "".join(sorted(["pamtest", "1409304348", "xxxxxx"])).encode()
    ).hexdigest()
    assert sign("pamtest", "1409304348", "xxxxxx") == expected
    wechatpy_check("pamtest", expected, "1409304348", "xxxxxx")


def test_valid_request_passes() -> None:
    signature = sign("tok", str(NOW), "n1")
    verify_request("tok", signature, str(NOW), "n1", 300, now=NOW)


@pytest.mark.parametrize(
    ("signature", "timestamp", "nonce"),
    [
        (None, str(NOW), "n1"),
        ("", str(NOW), "n1"),
        (sign("tok", str(NOW), "n1"), None, "n1"),
        (sign("tok", str(NOW), "n1"), str(NOW), None),
        (sign("other", str(NOW), "n1"), str(NOW), "n1"),
        (sign("tok", str(NOW), "n1").upper(), str(NOW), "n1"),
        ("签名", str(NOW), "n1"),
    ],
)
def test_bad_or_missing_signature(
    signature: str | None, timestamp: str | None, nonce: str | None
) -> None:
    with pytest.raises(InvalidSignature):
        verify_request("tok", signature, timestamp, nonce, 300, now=NOW)


@pytest.mark.parametrize("offset", [-301, 301, -100_000])
def test_timestamps_outside_the_window_are_stale(offset: int) -> None:
    timestamp = str(NOW + offset)
    with pytest.raises(StaleTimestamp):
        verify_request("tok", sign("tok", timestamp, "n"), timestamp, "n", 300, now=NOW)


@pytest.mark.parametrize("timestamp", ["abc", "1.5", ""])
def test_malformed_timestamps_are_stale(timestamp: str) -> None:
    with pytest.raises(StaleTimestamp):
        check_timestamp(timestamp, 300, now=NOW)


def test_edges_of_the_window_pass() -> None:
    check_timestamp(str(NOW - 300), 300, now=NOW)
    check_timestamp(str(NOW + 300), 300, now=NOW)
