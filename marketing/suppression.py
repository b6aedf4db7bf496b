"""Who must never get marketing again, kept through the erasure of their data.

Erasing a customer deletes their opt-out with everything else; if they wrote to
the account again they would look like a new follower who never said no. So
erasing a follower who had opted out leaves one row behind: a salted SHA-256
digest of their openid (``suppressions``), no openid, no other data. An openid
is 28 random characters, so the digest names nobody by itself; it only answers
"did this openid say no?" when the same openid comes back. Standard library only.
"""

from __future__ import annotations

import hashlib

# Fixed, so every replica and every later process computes the same digest.
_SALT = b"aurora-marketing-suppression:"


def user_digest(user_id: str) -> str:
    """The suppression digest of ``user_id``: 64 hex characters."""
    return hashlib.sha256(_SALT + user_id.encode("utf-8")).hexdigest()
