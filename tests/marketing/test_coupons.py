"""Single-use coupons: codes, one recovery coupon a period, atomic redemption."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from marketing.coupons import (
    ALPHABET,
    CODE_LENGTH,
    RECOVERY,
    Coupons,
    Redemption,
    new_code,
    normalise,
)
from marketing.store import MarketingStore
from tests.marketing.fixtures import T0

VALUE = "为表歉意，小极为您申请了一张50元无门槛补偿券（30天内有效）"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> MarketingStore:
    name = "marketing_db" if request.param == "sqlite" else "postgres_db"
    result: MarketingStore = request.getfixturevalue(name)
    return result


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def coupons(store: MarketingStore, clock: Clock) -> Coupons:
    return Coupons(store, clock)


def test_codes_are_unambiguous_and_random() -> None:
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("0O1IL") & set(ALPHABET)


def test_typed_codes_are_normalised() -> None:
    assert normalise(" abcd-efgh 23 ") == "ABCDEFGH23"
    assert normalise("ABCDEFGH2O") is None  # O is not in the alphabet
    assert normalise("SHORT") is None


def test_a_recovery_coupon_is_stored_with_its_expiry(
    coupons: Coupons, store: MarketingStore
) -> None:
    coupon = coupons.issue_recovery("u1", VALUE, valid_days=30)
    assert (coupon.reason, coupon.value, coupon.user_id) == (RECOVERY, VALUE, "u1")
    assert coupon.expires_at == T0 + timedelta(days=30)
    assert coupons.get(coupon.code) == coupon
    assert coupon.expiry_text() == "2026-12-22 18:00"  # T0 10:00 UTC, China time
    assert store.erase_user("u1")["coupons"] == 1


def test_a_second_complaint_gets_the_same_code(coupons: Coupons, clock: Clock) -> None:
    first = coupons.issue_recovery("u1", VALUE, valid_days=30)
    clock.now += timedelta(days=10)
    assert coupons.issue_recovery("u1", VALUE, valid_days=30) == first
    assert coupons.issue_recovery("u2", VALUE, valid_days=30).code != first.code
    # After the period, a new complaint gets a new coupon.
    clock.now = T0 + timedelta(days=31)
    later = coupons.issue_recovery("u1", VALUE, valid_days=30)
    assert later.code != first.code and coupons.usable(later)


def test_a_used_recovery_coupon_is_not_replaced_within_the_period(
    coupons: Coupons,
) -> None:
    first = coupons.issue_recovery("u1", VALUE, valid_days=30)
    assert coupons.redeem(first.code, "AU1") is Redemption.OK
    again = coupons.issue_recovery("u1", VALUE, valid_days=30)
    assert again.code == first.code
    assert not coupons.usable(again)


def test_redeem_outcomes(coupons: Coupons, clock: Clock) -> None:
    coupon = coupons.issue("u1", RECOVERY, VALUE, valid_days=1)
    assert coupons.redeem("ZZZZZZZZZZ", "AU1") is Redemption.UNKNOWN
    assert coupons.redeem("not a code", "AU1") is Redemption.UNKNOWN
    assert coupons.redeem(coupon.code, "AU1", user_id="u2") is Redemption.NOT_YOURS
    assert coupons.redeem(coupon.code.lower(), "AU1", user_id="u1") is Redemption.OK
    # The shop retrying the same order is fine; another order is not.
    assert coupons.redeem(coupon.code, "AU1") is Redemption.OK
    assert coupons.redeem(coupon.code, "AU2") is Redemption.ALREADY_REDEEMED
    assert Redemption.ALREADY_REDEEMED.accepted is False
    stored = coupons.get(coupon.code)
    assert stored is not None and stored.order_id == "AU1"
    late = coupons.issue("u1", RECOVERY, VALUE, valid_days=1)
    clock.now += timedelta(days=1)
    assert coupons.redeem(late.code, "AU3") is Redemption.EXPIRED


def test_racing_orders_redeem_a_code_once(coupons: Coupons) -> None:
    coupon = coupons.issue("u1", RECOVERY, VALUE, valid_days=30)
    outcomes: list[Redemption] = []
    start = threading.Barrier(8)

    def order(n: int) -> None:
        start.wait()
        outcomes.append(coupons.redeem(coupon.code, f"AU{n}"))

    threads = [threading.Thread(target=order, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(Redemption.OK) == 1
    assert outcomes.count(Redemption.ALREADY_REDEEMED) == 7
