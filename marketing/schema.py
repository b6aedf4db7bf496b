"""The marketing store's tables: interactions, leads, opt-outs, campaign sign-ups."""

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
            Column("user_id", String(128), nullable=False, index=True),
            Column("name", String(64), nullable=False),
            Column("phone", String(32), nullable=False),
            Column("consent", Boolean, nullable=False),
            Column("marketing_consent", Boolean, nullable=False),
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
