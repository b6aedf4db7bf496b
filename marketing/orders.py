"""Orders the shop reports: what ROI's revenue is made of.

An order names the tracked impression it came through; the customer is the
impression's. :func:`record_order` writes the order and the purchase interaction
in one transaction, once per ``order_id``: the shop's retries, replays and
concurrent duplicates record nothing more (the unique ``order_id`` decides, so
it holds across processes). :func:`parse_amount` and :func:`parse_currency`
check what the shop sent. No Rasa.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from marketing.store import IMPRESSION, PURCHASE, MarketingStore

CENT = Decimal("0.01")
# An amount above this is a typo (cents sent as yuan) or an attack, not a sale
# of a consumer-electronics shop; the column itself holds 10 integer digits.
MAX_AMOUNT = Decimal("1000000")
# The width of the order_id and item_id columns.
MAX_ID = 64


class OrderError(ValueError):
    """What the shop sent is not a usable order; the message says which field."""


class Outcome(enum.Enum):
    """What :func:`record_order` did."""

    RECORDED = "ok"
    DUPLICATE = "duplicate"
    # No impression has the order's tracking id.
    UNKNOWN_TRACKING_ID = "unknown"


@dataclass(frozen=True)
class Order:
    """One order as stored."""

    order_id: str
    user_id: str
    amount: Decimal
    currency: str
    created_at: datetime
    tracking_id: str | None = None
    item_id: str | None = None


def parse_amount(value: object) -> Decimal:
    """The amount of an order: a decimal string or number, > 0, cents at most.

    Raises:
        OrderError: Not a number, not positive, finer than cents or too large.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise OrderError("amount must be a decimal number or string")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise OrderError(f"amount {str(value)[:20]!r} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise OrderError("amount must be positive")
    if amount > MAX_AMOUNT:
        raise OrderError(f"amount must be at most {MAX_AMOUNT}")
    if amount != amount.quantize(CENT):
        raise OrderError("amount has at most 2 decimals")
    return amount.quantize(CENT)


def parse_currency(value: object, default: str) -> str:
    """An ISO 4217 code (``cny`` reads as ``CNY``); ``default`` when absent.

    Raises:
        OrderError: Not three letters.
    """
    if value is None:
        return default
    code = str(value).strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise OrderError("currency must be an ISO 4217 code such as CNY")
    return code


def parse_id(value: object, field: str) -> str:
    """An order or item id of the shop: 1 to 64 printable characters.

    Args:
        value: What the shop sent.
        field: Its name, for the error.

    Raises:
        OrderError: Missing, empty, too long or with control characters.
    """
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise OrderError(f"{field} must be a string")
    text = str(value).strip()
    if not text or len(text) > MAX_ID or not text.isprintable():
        raise OrderError(f"{field} must be 1 to {MAX_ID} printable characters")
    return text


@dataclass(frozen=True)
class OrderRequest:
    """The order fields of a ``POST /orders`` body, checked."""

    order_id: str
    amount: Decimal
    currency: str
    item_id: str | None


# Fields only an order carries: with any of them the body is an order, not the
# older purchase-only callback.
ORDER_FIELDS = ("order_id", "amount", "currency", "item_id")


def parse_order(payload: Mapping[str, Any], currency: str) -> OrderRequest | None:
    """The order in a ``POST /orders`` body; None for the older body.

    The older body (``tracking_id`` alone) logs a purchase without an order.

    Args:
        payload: The JSON body (floats parsed as :class:`Decimal`).
        currency: The currency of an order that names none.

    Raises:
        OrderError: A field is missing or unusable; the message names it.
    """
    if not any(name in payload for name in ORDER_FIELDS):
        return None
    if "order_id" not in payload:
        raise OrderError("order_id is required")
    if "amount" not in payload:
        raise OrderError("amount is required")
    item_id = payload.get("item_id")
    return OrderRequest(
        order_id=parse_id(payload["order_id"], "order_id"),
        amount=parse_amount(payload["amount"]),
        currency=parse_currency(payload.get("currency"), currency),
        item_id=None if item_id is None else parse_id(item_id, "item_id"),
    )


def record_order(
    store: MarketingStore,
    order_id: str,
    tracking_id: str,
    amount: Decimal,
    currency: str,
    item_id: str | None = None,
) -> Outcome:
    """Records the order and its purchase interaction, once per ``order_id``.

    Args:
        store: The marketing store (its clock dates the order).
        order_id: The shop's order id.
        tracking_id: The impression the order came through; gives the customer.
        amount: What was paid (validated, :func:`parse_amount`).
        currency: ISO 4217 code.
        item_id: What was bought (default: the impression's item).

    Returns:
        What happened: recorded, a duplicate, or an unknown tracking id.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: The database failed.
    """
    interactions = store.table("interactions")
    query = select(interactions).where(
        interactions.c.tracking_id == tracking_id,
        interactions.c.event == IMPRESSION,
    )
    now = store.now()
    try:
        with store.engine.begin() as connection:
            impression = connection.execute(query.limit(1)).mappings().first()
            if impression is None:
                return Outcome.UNKNOWN_TRACKING_ID
            if _exists(connection, store, order_id):
                return Outcome.DUPLICATE
            order = {
                "order_id": order_id,
                "user_id": impression["user_id"],
                "tracking_id": tracking_id,
                "item_id": item_id or impression["item_id"],
                "amount": amount,
                "currency": currency,
                "created_at": now,
            }
            connection.execute(store.table("orders").insert(), [order])
            purchase = {
                k: impression[k] for k in impression if k not in ("id", "target_url")
            }
            purchase.update(event=PURCHASE, created_at=now)
            connection.execute(interactions.insert(), [purchase])
    except IntegrityError:
        # A concurrent request with the same order id committed first: its
        # transaction recorded the order and the purchase, this one nothing.
        with store.engine.connect() as connection:
            if _exists(connection, store, order_id):
                return Outcome.DUPLICATE
        raise
    return Outcome.RECORDED


def buyer_of(store: MarketingStore, tracking_id: str) -> str | None:
    """The customer the impression ``tracking_id`` was shown to, if it exists.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: The database failed.
    """
    interactions = store.table("interactions")
    query = select(interactions.c.user_id).where(
        interactions.c.tracking_id == tracking_id,
        interactions.c.event == IMPRESSION,
    )
    with store.engine.connect() as connection:
        row = connection.execute(query.limit(1)).first()
    return None if row is None else str(row[0])


def _exists(connection: Connection, store: MarketingStore, order_id: str) -> bool:
    table = store.table("orders")
    query = select(table.c.id).where(table.c.order_id == order_id)
    return connection.execute(query).first() is not None


def orders_between(
    store: MarketingStore, since: datetime | None, until: datetime
) -> list[Order]:
    """Orders created in ``[since, until]`` (UTC, naive), oldest first."""
    table = store.table("orders")
    # The amount as the driver gives it (PostgreSQL: a Decimal; SQLite, which
    # has no decimal type: a float of at most 10 digits, exact to the cent), not
    # through SQLAlchemy's float conversion, which warns on SQLite.
    amount = type_coerce(table.c.amount, String).label("amount")
    columns = [c for c in table.c if c.name != "amount"]
    query = select(*columns, amount).where(table.c.created_at <= until)
    if since is not None:
        query = query.where(table.c.created_at >= since)
    with store.engine.connect() as connection:
        rows = connection.execute(query.order_by(table.c.created_at, table.c.id))
        return list(_orders(rows.mappings()))


def _orders(rows: Iterable[RowMapping]) -> Iterator[Order]:
    for row in rows:
        yield Order(
            order_id=row["order_id"],
            user_id=row["user_id"],
            amount=Decimal(str(row["amount"])).quantize(CENT),
            currency=row["currency"],
            created_at=row["created_at"],
            tracking_id=row["tracking_id"],
            item_id=row["item_id"],
        )
