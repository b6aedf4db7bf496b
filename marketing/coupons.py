"""Single-use coupons: issued to one customer, redeemed once, before they expire.

A code is 10 characters drawn with :mod:`secrets` from an alphabet without the
characters people confuse when they type a code from a phone screen (0/O, 1/I/L):
31 ** 10, about 8 * 10 ** 14 codes, so guessing one is hopeless. The service-recovery
coupon (:meth:`Coupons.issue_recovery`) is issued at most once per customer per
:data:`RECOVERY_PERIOD`: a second complaint gets the same code back, not a new
one. :meth:`Coupons.redeem` is one conditional ``UPDATE``, so two orders racing
for the same code cannot both have it. No Rasa.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from marketing.store import MarketingStore

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
RECOVERY = "service_recovery"
# One recovery coupon per customer in this period, however often they complain.
RECOVERY_PERIOD = timedelta(days=30)
# Customers read times in China Standard Time (no daylight saving).
CHINA_TIME = timezone(timedelta(hours=8))
_ISSUE_TRIES = 5


class Redemption(enum.Enum):
    """What became of a redemption."""

    OK = "ok"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    ALREADY_REDEEMED = "already_redeemed"
    NOT_YOURS = "not_yours"

    @property
    def accepted(self) -> bool:
        """Whether the order may have the coupon's value."""
        return self is Redemption.OK


@dataclass(frozen=True)
class Coupon:
    """An issued coupon."""

    code: str
    user_id: str
    reason: str
    value: str
    expires_at: datetime
    created_at: datetime
    redeemed_at: datetime | None = None
    order_id: str | None = None

    def expiry_text(self) -> str:
        """When it expires, as the customer reads it (China time, to the minute)."""
        local = self.expires_at.replace(tzinfo=timezone.utc).astimezone(CHINA_TIME)
        return local.strftime("%Y-%m-%d %H:%M")


def new_code() -> str:
    """A fresh random code (:data:`CODE_LENGTH` characters of :data:`ALPHABET`)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(code: str) -> str | None:
    """The code as stored (upper case, no spaces or dashes); ``None`` if malformed."""
    cleaned = code.strip().upper().replace(" ", "").replace("-", "")
    if len(cleaned) != CODE_LENGTH or not set(cleaned) <= set(ALPHABET):
        return None
    return cleaned


class Coupons:
    """The ``coupons`` table of ``store``.

    Args:
        store: The marketing store.
        clock: Now (UTC, naive); the store's clock by default.
    """

    def __init__(
        self, store: MarketingStore, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._store = store
        self._t = store.table("coupons")
        self._clock = clock or store.now

    def issue(self, user_id: str, reason: str, value: str, valid_days: int) -> Coupon:
        """Issues a new coupon to ``user_id``, valid for ``valid_days``.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: The database failed.
        """
        now = self._clock()
        for _ in range(_ISSUE_TRIES):
            coupon = Coupon(
                code=new_code(),
                user_id=user_id,
                reason=reason,
                value=value,
                expires_at=now + timedelta(days=valid_days),
                created_at=now,
            )
            try:
                with self._store.engine.begin() as connection:
                    connection.execute(self._t.insert(), [coupon.__dict__])
            except IntegrityError:
                continue  # the code exists already: draw another
            return coupon
        raise RuntimeError("no free coupon code after several draws")

    def issue_recovery(self, user_id: str, value: str, valid_days: int) -> Coupon:
        """The customer's service-recovery coupon of this period.

        The one issued within :data:`RECOVERY_PERIOD`, when there is one (check
        its ``redeemed_at`` and ``expires_at``: it may be used up); else a new one.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: The database failed.
        """
        t = self._t
        query = (
            select(t)
            .where(
                t.c.user_id == user_id,
                t.c.reason == RECOVERY,
                t.c.created_at > self._clock() - RECOVERY_PERIOD,
            )
            .order_by(t.c.created_at.desc())
            .limit(1)
        )
        with self._store.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is not None:
            return _coupon(row)
        return self.issue(user_id, RECOVERY, value, valid_days)

    def usable(self, coupon: Coupon) -> bool:
        """Whether ``coupon`` can still be redeemed."""
        return coupon.redeemed_at is None and coupon.expires_at > self._clock()

    def get(self, code: str) -> Coupon | None:
        """The coupon with ``code`` (any spelling :func:`normalise` accepts)."""
        cleaned = normalise(code)
        if cleaned is None:
            return None
        with self._store.engine.connect() as connection:
            query = select(self._t).where(self._t.c.code == cleaned)
            row = connection.execute(query).mappings().first()
        return None if row is None else _coupon(row)

    def redeem(
        self, code: str, order_id: str, user_id: str | None = None
    ) -> Redemption:
        """Redeems ``code`` for ``order_id``, once.

        The same order redeeming again is :attr:`Redemption.OK` (the shop
        retried its call); any other order after it is ``ALREADY_REDEEMED``.

        Args:
            code: The code the customer typed.
            order_id: The shop's order.
            user_id: The buyer, when known: a coupon of someone else is refused.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: The database failed.
        """
        cleaned = normalise(code)
        if cleaned is None:
            return Redemption.UNKNOWN
        t, now = self._t, self._clock()
        conditions = [
            t.c.code == cleaned,
            t.c.redeemed_at.is_(None),
            t.c.expires_at > now,
        ]
        if user_id is not None:
            conditions.append(t.c.user_id == user_id)
        query = update(t).where(*conditions).values(redeemed_at=now, order_id=order_id)
        with self._store.engine.begin() as connection:
            if connection.execute(query).rowcount == 1:
                return Redemption.OK
        coupon = self.get(cleaned)
        if coupon is None:
            return Redemption.UNKNOWN
        if user_id is not None and coupon.user_id != user_id:
            return Redemption.NOT_YOURS
        if coupon.redeemed_at is not None:
            if coupon.order_id == order_id:
                return Redemption.OK
            return Redemption.ALREADY_REDEEMED
        return Redemption.EXPIRED


def _coupon(row: RowMapping) -> Coupon:
    return Coupon(**{name: row[name] for name in Coupon.__dataclass_fields__})
