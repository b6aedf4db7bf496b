"""One campaign message to one follower through WeChat's API, retried as allowed.

The channel planned, and the template instead when WeChat says the follower is
outside the 48-hour window (45015) and may get it; each API call takes a token
of the rate limit; a call failing below WeChat's answer, or with WeChat's -1
("system busy"), is tried again after a growing pause. WeChat's other refusals
come back as :class:`~wechat.errors.WeChatApiError` for the send to record.
No Rasa.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from marketing.campaign_sends import SendRow
from marketing.campaigns import Campaign
from marketing.send_plan import (
    CUSTOM_SEND_PATH,
    CUSTOMER_SERVICE,
    TEMPLATE,
    TEMPLATE_SEND_PATH,
    custom_message,
    template_message,
)
from marketing.send_rate import TokenBucket
from marketing.tracking import tracked_url
from wechat.api_client import TRANSPORT_ERROR
from wechat.errors import WeChatApiError, WeChatChannelError

QUOTA_REACHED = 45009
OUTSIDE_WINDOW = 45015
TOO_MANY_MESSAGES = 45047
# Tries of one call that fails below WeChat's answer (or "system busy", -1).
DEFAULT_TRIES = 4
# First pause before another try; doubled each time.
DEFAULT_BACKOFF_S = 0.5


class ApiPoster(Protocol):
    """What a send needs of :class:`wechat.api_client.WeChatApiClient`."""

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POSTs ``body`` to ``path``; raises WeChatApiError on a non-zero errcode."""


# Transport failures after the request may have reached WeChat: the answer, not
# the call, was lost (aiohttp's and asyncio's names, as the API client reports).
_LOST_ANSWERS = ("TimeoutError", "ServerTimeoutError", "ServerDisconnectedError")


def may_have_arrived(error: WeChatApiError) -> bool:
    """Whether WeChat may have delivered a call that failed with ``error``."""
    return error.errcode == TRANSPORT_ERROR and error.errmsg.startswith(_LOST_ANSWERS)


class Delivery:
    """Sends one row's message, falling back and retrying as WeChat allows.

    Args:
        api: WeChat's API (``WeChatApiClient`` or a stand-in).
        limiter: The send's rate limit; every call takes a token.
        tracking_base_url: The click server's base (tracked links).
        tries: Tries of a call failing with -1 or a transport error.
        backoff_s: Pause before the second try, doubled for each next one.
        sleep: Waits that many seconds (injectable for tests).
    """

    def __init__(
        self,
        api: ApiPoster,
        limiter: TokenBucket,
        tracking_base_url: str | None = None,
        tries: int = DEFAULT_TRIES,
        backoff_s: float = DEFAULT_BACKOFF_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if tries < 1:
            raise ValueError("tries must be at least 1")
        self._api = api
        self._limiter = limiter
        self._base = tracking_base_url
        self._tries = tries
        self._backoff_s = backoff_s
        self._sleep = sleep

    async def deliver(
        self, campaign: Campaign, row: SendRow, template_ok: bool
    ) -> tuple[str, WeChatApiError | None]:
        """Sends the row's message; the channel used and WeChat's refusal, if any.

        Args:
            campaign: The row's campaign.
            row: The claimed row (variant, planned channel, tracking id).
            template_ok: Whether the follower may get the template instead.
        """
        link = tracked_url(campaign.url, row.tracking_id, self._base)
        if row.channel == CUSTOMER_SERVICE:
            message = campaign.variant(row.variant).message
            body = custom_message(row.user_id, message, link)
            error = await self.post(CUSTOM_SEND_PATH, body)
            if error is None or error.errcode != OUTSIDE_WINDOW or not template_ok:
                return CUSTOMER_SERVICE, error
        if campaign.template is None:
            return TEMPLATE, WeChatApiError(
                OUTSIDE_WINDOW, "the campaign has no template"
            )
        body = template_message(row.user_id, campaign.template, link)
        return TEMPLATE, await self.post(TEMPLATE_SEND_PATH, body)

    async def post(self, path: str, body: dict[str, Any]) -> WeChatApiError | None:
        """Calls ``path`` with retries; None when WeChat accepted, else its refusal."""
        for attempt in range(self._tries):
            await self._limiter.acquire()
            try:
                await self._api.post(path, body)
                return None
            except WeChatApiError as e:
                if e.errcode != TRANSPORT_ERROR or attempt == self._tries - 1:
                    return e
                if may_have_arrived(e):
                    return e  # a second try could deliver it twice
            except WeChatChannelError as e:
                # The token store failed before the call: nothing was sent.
                return WeChatApiError(TRANSPORT_ERROR, f"{type(e).__name__}: {e}")
            await self._sleep(self._backoff_s * 2**attempt)
        raise AssertionError("unreachable")  # the last try returns
