"""Leads as the customer gave them and as they are kept: phone encrypted, masked.

A :class:`Lead` holds the number in clear and lives only in memory (the action
that took it, :meth:`MarketingStore.leads` for the operator who calls back). What
is written anywhere, the leads table or the outbox while the database is down,
is a :class:`SealedLead`: the number encrypted with the data key, plus a masked
form (``138****5678``) that operators may see without decrypting. No Rasa.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from marketing.contact import mask_mobile
from privacy.cipher import DataCipher


@dataclass(frozen=True)
class Lead:
    """A completed lead form, number in clear.

    ``consent`` is the customer's yes to be called back about this request
    (without it no lead is kept); ``marketing_consent`` their separate yes to
    promotions (``False`` when they said no or have opted out). Each ``*_at`` is
    when that answer was recorded (``None``: never asked).
    """

    user_id: str
    name: str
    phone: str
    consent: bool
    marketing_consent: bool
    score: float
    campaign: str | None = None
    consent_at: datetime | None = None
    marketing_consent_at: datetime | None = None
    # Identifies the lead across retries and outbox replays (stored once).
    ref: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class SealedLead:
    """A lead as it is kept: the number encrypted, and masked for operators."""

    ref: str
    user_id: str
    name: str
    phone_encrypted: str
    phone_masked: str
    consent: bool
    consent_at: datetime | None
    marketing_consent: bool
    marketing_consent_at: datetime | None
    score: float
    campaign: str | None
    created_at: datetime

    def to_payload(self) -> dict[str, Any]:
        """A JSON-safe form (times in ISO 8601) for the outbox."""
        return {
            k: v.isoformat() if isinstance(v, datetime) else v
            for k, v in asdict(self).items()
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SealedLead:
        """The lead :meth:`to_payload` gave.

        Raises:
            KeyError, TypeError, ValueError: The payload is not such a lead.
        """
        times = ("consent_at", "marketing_consent_at", "created_at")
        values: dict[str, Any] = {
            k: datetime.fromisoformat(v) if k in times and v is not None else v
            for k, v in payload.items()
        }
        return cls(**values)

    def unseal(self, cipher: DataCipher) -> Lead:
        """The lead with its number decrypted.

        Raises:
            privacy.cipher.CipherError: Sealed with another key.
        """
        return Lead(
            phone=cipher.decrypt(self.phone_encrypted),
            **{name: getattr(self, name) for name in _SHARED},
        )


# What a lead and its sealed form have in common: everything but the number.
_SHARED = tuple(name for name in Lead.__dataclass_fields__ if name != "phone")


def seal(lead: Lead, cipher: DataCipher, created_at: datetime) -> SealedLead:
    """Encrypts and masks the lead's number for keeping."""
    return SealedLead(
        phone_encrypted=cipher.encrypt(lead.phone),
        phone_masked=mask_mobile(lead.phone),
        created_at=created_at,
        **{name: getattr(lead, name) for name in _SHARED},
    )
