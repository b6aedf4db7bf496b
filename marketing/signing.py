"""HMAC-SHA256 body signatures between us and the shop or the sales CRM.

The shop signs ``POST /orders`` (:mod:`servers.click_server`) and we sign what
the sales webhook posts (:mod:`marketing.sales_webhook`) the same way: the
``X-Aurora-Signature`` header carries ``sha256=<hex HMAC-SHA256 of the raw
body>`` keyed with a shared secret that never travels. Standard library only.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Aurora-Signature"
SIGNATURE_PREFIX = "sha256="


def sign_body(token: str, body: bytes) -> str:
    """The ``X-Aurora-Signature`` value for ``body``: ``sha256=<hex HMAC-SHA256>``.

    Args:
        token: The shared secret (``AURORA_TRACKING_TOKEN``, the webhook secret).
        body: The raw request body, exactly as sent.
    """
    digest = hmac.new(token.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest
