"""The marketing store's tables.

What customers did (interactions, activity, orders), what they gave (leads,
opt-outs, campaign sign-ups), what we sent them (campaign sends, coupons) and what
is planned (campaign runs) or owed to sales (lead notifications).

Every table with personal data has a ``user_id`` column:
:meth:`MarketingStore.erase_user` deletes a customer's rows from each table that
has one, so a new table with personal data needs one.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
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
        # What a follower did, one row per message or event (the Rasa event
        # broker of channels/activity_broker.py writes it): what profiles and
        # segments are built from, and WeChat's 48-hour window.
        "activity": Table(
            "activity",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            # The Rasa event it was made from (a hash): an event written twice
            # (a replay after a timed-out write that did land) is stored once.
            Column("event_id", String(32), unique=True),
            Column("user_id", String(128), nullable=False),
            # message | subscribe | unsubscribe | scan | menu | event
            Column("kind", String(16), nullable=False),
            Column("intent", String(64)),
            # The product category the message was about, when it named one.
            Column("category", String(32)),
            # positive | neutral | negative (the NLU's sentiment)
            Column("sentiment", String(16)),
            # The QR scene of a subscribe or scan event (qrscene_ stripped).
            Column("scene", String(64)),
            Column("created_at", DateTime, nullable=False),
            Index("ix_activity_user_time", "user_id", "created_at"),
            Index("ix_activity_time", "created_at"),
        ),
        # The actions the bot ran in a follower's conversation, one row per Rasa
        # ``action`` event but action_listen (written from the event stream like
        # ``activity``): what a follower asked the bot to do, per day.
        "action_runs": Table(
            "action_runs",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            # The Rasa event it was made from (a hash): stored once.
            Column("event_id", String(32), unique=True),
            Column("user_id", String(128), nullable=False),
            Column("action", String(64), nullable=False),
            Column("created_at", DateTime, nullable=False),
            Index("ix_action_runs_user_time", "user_id", "created_at"),
            Index("ix_action_runs_time", "created_at"),
        ),
        # Orders the shop reported (POST /orders): the revenue of ROI.
        "orders": Table(
            "orders",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            # The shop's order id: an order is recorded once, however often sent.
            Column("order_id", String(64), nullable=False, unique=True),
            Column("user_id", String(128), nullable=False, index=True),
            # The tracked impression the order came through, when it had one.
            Column("tracking_id", String(32)),
            Column("item_id", String(64)),
            Column("amount", Numeric(12, 2), nullable=False),
            # ISO 4217 (CNY).
            Column("currency", String(3), nullable=False),
            Column("created_at", DateTime, nullable=False, index=True),
        ),
        # One row per campaign and recipient: what was (or will be) sent, so a
        # re-run sends nothing twice and a crashed send resumes.
        "campaign_sends": Table(
            "campaign_sends",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("campaign", String(64), nullable=False),
            Column("user_id", String(128), nullable=False, index=True),
            Column("variant", String(32), nullable=False),
            # customer_service | template
            Column("channel", String(16), nullable=False),
            # pending | sending | sent | failed | skipped
            Column("status", String(16), nullable=False),
            # WeChat's errcode of the last try (45009, 45047, 45015, ...).
            Column("errcode", Integer),
            Column("detail", Text),
            # The impression logged for the message: clicks and orders join on it.
            Column("tracking_id", String(32)),
            Column("attempts", Integer, nullable=False, default=0),
            Column("created_at", DateTime, nullable=False),
            Column("updated_at", DateTime, nullable=False),
            UniqueConstraint("campaign", "user_id", name="uq_campaign_send"),
            Index("ix_campaign_sends_status", "campaign", "status"),
        ),
        # Followers who opted out and then had their data erased: a digest of the
        # openid (marketing/suppression.py), so they never get marketing again.
        # No user_id: it survives the erasure by design.
        "suppressions": Table(
            "suppressions",
            metadata,
            Column("user_digest", String(64), primary_key=True),
            Column("created_at", DateTime, nullable=False),
        ),
        # Scheduled sends (`aurora-marketing send --at`); no personal data.
        "campaign_runs": Table(
            "campaign_runs",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("campaign", String(64), nullable=False),
            Column("segment", String(64), nullable=False),
            Column("run_at", DateTime, nullable=False),
            # scheduled | running | done | failed
            Column("status", String(16), nullable=False),
            Column("detail", Text),
            Column("created_at", DateTime, nullable=False),
            Column("updated_at", DateTime, nullable=False),
        ),
        # Single-use coupons issued to customers (service recovery, campaigns).
        "coupons": Table(
            "coupons",
            metadata,
            Column("code", String(32), primary_key=True),
            Column("user_id", String(128), nullable=False, index=True),
            # Why it was issued: service_recovery, a campaign id.
            Column("reason", String(64), nullable=False),
            # What it is worth, as the customer was told (catalog policy text).
            Column("value", Text, nullable=False),
            Column("expires_at", DateTime, nullable=False),
            Column("redeemed_at", DateTime),
            # The order it was redeemed with (orders.order_id).
            Column("order_id", String(64)),
            Column("created_at", DateTime, nullable=False),
        ),
        # Marketing copy drafted by a generator, checked and reviewed by a marketer
        # (marketing/copy_drafts.py); only approved copy is sent or shown. No
        # personal data.
        "copy_drafts": Table(
            "copy_drafts",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("campaign", String(64), nullable=False),
            Column("variant", String(32), nullable=False),
            # The catalog id chat shows the approved copy for.
            Column("subject", String(64), nullable=False),
            Column("tone", String(8), nullable=False),
            Column("segment", String(64)),
            # template | transformers | openai, and the model that wrote it.
            Column("backend", String(16), nullable=False),
            Column("model", String(200), nullable=False),
            Column("text", Text, nullable=False),
            # JSON list of the failed checks: [{"check": ..., "detail": ...}].
            Column("failures", Text, nullable=False),
            # The brief it was drafted from (JSON, copywriting/brief.py).
            Column("brief", Text, nullable=False),
            # pending | approved | rejected
            Column("status", String(16), nullable=False),
            Column("edited", Boolean, nullable=False, default=False),
            # Incremented by each edit: an approval names the revision it read.
            Column("revision", Integer, nullable=False, default=1),
            # Who reviewed it last, and why a draft was rejected.
            Column("reviewer", String(64)),
            Column("note", Text),
            Column("created_at", DateTime, nullable=False),
            Column("updated_at", DateTime, nullable=False),
            Index("ix_copy_drafts_campaign", "campaign", "variant", "status"),
            Index("ix_copy_drafts_subject", "subject", "status"),
        ),
        # Leads above the threshold owed to the sales webhook, with their tries.
        "lead_notifications": Table(
            "lead_notifications",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("lead_ref", String(32), nullable=False, unique=True),
            Column("user_id", String(128), nullable=False, index=True),
            # pending | sent | failed
            Column("status", String(16), nullable=False),
            Column("attempts", Integer, nullable=False, default=0),
            Column("last_error", Text),
            Column("next_attempt_at", DateTime, nullable=False),
            Column("created_at", DateTime, nullable=False),
        ),
    }
