"""The marketing store's tables: interactions, leads, opt-outs, campaign sign-ups.

Every table has a ``user_id`` column: :meth:`MarketingStore.erase_user` deletes a
customer's rows from each of them, so a new table with personal data needs one.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)


def tables(metadata: MetaData) -> dict[str, Table]:
    """The marketing tables, by name, in ``metadata``."""
    return {
        "interactions": Table(
            "interactions",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("tracking_id", String(32), index=True),
            Column("user_id", String(128), nullable=False, index=True),
            Column("item_id", String(64), nullable=False),
            Column("event", String(16), nullable=False),
            Column("variant", String(32), nullable=False),
            Column("campaign", String(64)),
            Column("target_url", Text),
            Column("created_at", DateTime, nullable=False),
        ),
        "leads": Table(
            "leads",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            # One lead, however often it was written (outbox replays).
            Column("ref", String(32), nullable=False, unique=True),
            Column("user_id", String(128), nullable=False, index=True),
            Column("name", String(64), nullable=False),
            # Encrypted with the data key (privacy/cipher.py), never in clear.
            Column("phone_encrypted", Text, nullable=False),
            # 138****5678: what operators see without the key.
            Column("phone_masked", String(16), nullable=False),
            # The yes to a callback about this request, and when it was given.
            Column("consent", Boolean, nullable=False),
            Column("consent_at", DateTime),
            # The separate yes to promotions (False: said no or opted out).
            Column("marketing_consent", Boolean, nullable=False),
            Column("marketing_consent_at", DateTime),
            Column("score", Float, nullable=False),
            Column("campaign", String(64)),
            Column("created_at", DateTime, nullable=False),
        ),
        "opt_outs": Table(
            "opt_outs",
            metadata,
            Column("user_id", String(128), primary_key=True),
            Column("created_at", DateTime, nullable=False),
        ),
        "campaign_signups": Table(
            "campaign_signups",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("user_id", String(128), nullable=False),
            Column("campaign_id", String(64), nullable=False),
            Column("created_at", DateTime, nullable=False),
            UniqueConstraint("user_id", "campaign_id", name="uq_signup"),
        ),
    }
