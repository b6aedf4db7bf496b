"""Who may see the admin server: the admin token, and sessions signed with it.

Scripts send the token as ``Authorization: Bearer <token>``. A browser logs in
once with a form; the cookie it then carries is not the token but a session,
``<expires>.<nonce>.<signature>``, signed with HMAC-SHA256 under a key derived
from the token. A forged, altered or expired session fails the signature or the
clock; changing the token ends every session. Every comparison of a secret is
:func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

# How long a browser stays logged in.
SESSION_LIFETIME_S = 8 * 3600
# What the session key is derived for, so it is never the token itself.
SESSION_KEY_CONTEXT = b"aurora-admin-session-v1"
CSRF_KEY_CONTEXT = b"aurora-admin-csrf-v1"
BEARER = "Bearer "


class AdminTokenMissing(ValueError):
    """The admin server has no token: it refuses to start rather than be open."""


class AdminAuth:
    """Checks the admin token and issues and checks browser sessions.

    Args:
        token: The admin token (``AURORA_ADMIN_TOKEN``).
        clock: Unix time now.
        lifetime_s: How long a session lasts.

    Raises:
        AdminTokenMissing: ``token`` is empty.
    """

    def __init__(
        self,
        token: str | None,
        clock: Callable[[], float] = time.time,
        lifetime_s: float = SESSION_LIFETIME_S,
    ) -> None:
        if not token or not token.strip():
            raise AdminTokenMissing(
                "AURORA_ADMIN_TOKEN is not set: the admin server shows customer data "
                "and does not start without a token; set it to a long random value, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        self._token = token.encode("utf-8")
        self._key = hmac.new(self._token, SESSION_KEY_CONTEXT, hashlib.sha256).digest()
        self._csrf_key = hmac.new(
            self._token, CSRF_KEY_CONTEXT, hashlib.sha256
        ).digest()
        self._clock = clock
        self._lifetime_s = lifetime_s

    def token_matches(self, candidate: str) -> bool:
        """Whether ``candidate`` is the admin token."""
        return hmac.compare_digest(candidate.encode("utf-8"), self._token)

    def bearer_matches(self, authorization: str) -> bool:
        """Whether an ``Authorization`` header carries the token as a bearer."""
        if not authorization.startswith(BEARER):
            return False
        return self.token_matches(authorization[len(BEARER) :].strip())

    def new_session(self) -> str:
        """A fresh session for a browser that has just given the token."""
        expires = int(self._clock() + self._lifetime_s)
        payload = f"{expires}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._sign(payload)}"

    def session_valid(self, session: str) -> bool:
        """Whether ``session`` was issued here, unaltered, and has not expired."""
        payload, _, signature = session.rpartition(".")
        if not payload or not hmac.compare_digest(
            signature.encode("utf-8"), self._sign(payload).encode("utf-8")
        ):
            return False
        expires, _, _ = payload.partition(".")
        try:
            return self._clock() < int(expires)
        except ValueError:
            return False

    def csrf_token(self, session: str) -> str:
        """The CSRF token of ``session``, for the forms of its pages."""
        digest = hmac.new(self._csrf_key, session.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()

    def csrf_valid(self, session: str, candidate: str) -> bool:
        """Whether ``candidate`` is the CSRF token of ``session``, a valid session."""
        return self.session_valid(session) and hmac.compare_digest(
            candidate.encode("utf-8"), self.csrf_token(session).encode("utf-8")
        )

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode("utf-8"), hashlib.sha256).hexdigest()
