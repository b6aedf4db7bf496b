"""WeChat's customer-service API over aiohttp, with a shared access token.

Follows wechatpy's ``WeChatClient`` semantics (``GET cgi-bin/token``,
``POST cgi-bin/message/custom/send``, UTF-8 JSON, a refresh and one retry on
40001/40014/42001) without blocking the event loop. The token lives in a
``KeyValueStore`` (memory or Redis) and only one refresh runs at a time, across
replicas too: a caller whose token was rejected refreshes only if nobody replaced
that token while it waited for the lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

from telemetry.metrics import count_api_error
from wechat.errors import WeChatApiError
from wechat.storage import KeyValueStore, store_lock

logger = logging.getLogger(__name__)

# Token rejected: invalid credential, invalid token, token expired.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# The user has not written for 48 hours (or unfollowed): no more API messages.
OUTSIDE_WINDOW = 45015
# The account may not use this API (unverified accounts): passive replies only.
NOT_AUTHORISED = 48001
# Refresh this long before WeChat's expiry, as wechatpy does with its 60 s margin.
TOKEN_MARGIN_S = 300
# errcode for failures below WeChat's JSON (connection refused, timeout, HTTP 5xx,
# not JSON); WeChat's own -1 is "system busy". Both are worth another try
# (``wechat.delivery``).
TRANSPORT_ERROR = -1
# errcode for any other HTTP status than 2xx and 5xx: not worth another try.
HTTP_ERROR = -2


class WeChatApiClient:
    """Calls WeChat's API for one official account.

    Args:
        app_id: the AppID.
        app_secret: the AppSecret.
        store: where the access token and its refresh lock live.
        base_url: WeChat's API server (``https://api.weixin.qq.com``), or a stand-in.
        timeout_s: timeout of one HTTP call.
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        store: KeyValueStore,
        base_url: str,
        timeout_s: float,
    ) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._store = store
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._token_key = f"{app_id}:access_token"
        self._lock_key = f"{app_id}:access_token_lock"

    def _http(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop, as aiohttp requires.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def access_token(self) -> str:
        """The cached token, fetched first when there is none."""
        token = await self._store.get(self._token_key)
        return token if token else await self.refresh_token(stale=None)

    async def refresh_token(self, stale: str | None) -> str:
        """Replaces ``stale`` with a new token, unless another caller already did.

        Raises:
            WeChatApiError: WeChat refused (wrong AppSecret, IP not whitelisted...).
        """
        async with store_lock(self._store, self._lock_key, ttl_s=self._timeout_s + 5):
            current = await self._store.get(self._token_key)
            if current and current != stale:
                return current
            logger.info("Fetching a WeChat access token for %s.", self._app_id)
            result = await self._call(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self._app_id,
                    "secret": self._app_secret,
                },
            )
            token = str(result.get("access_token") or "")
            if not token:
                raise WeChatApiError(TRANSPORT_ERROR, "no access_token in the answer")
            expires_in = int(result.get("expires_in") or 7200)
            await self._store.set(
                self._token_key, token, ttl_s=max(60, expires_in - TOKEN_MARGIN_S)
            )
            return token

    async def send_message(self, body: dict[str, Any]) -> None:
        """Sends one customer-service message (``message/custom/send``).

        Raises:
            WeChatApiError: any non-zero errcode after at most one token refresh.
        """
        await self.post("/cgi-bin/message/custom/send", body)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POSTs ``body`` to an API ``path`` with the access token; WeChat's answer.

        The one way every API call is made (messages, template messages, user
        tags): a rejected token is refreshed once and the call repeated.

        Raises:
            WeChatApiError: any non-zero errcode after at most one token refresh.
        """
        token = await self.access_token()
        try:
            return await self._post_with_token(path, body, token)
        except WeChatApiError as e:
            if e.errcode not in TOKEN_ERRORS:
                raise
            logger.info("WeChat rejected the access token (%s); refreshing.", e.errcode)
            token = await self.refresh_token(stale=token)
            return await self._post_with_token(path, body, token)

    async def _post_with_token(
        self, path: str, body: dict[str, Any], token: str
    ) -> dict[str, Any]:
        # WeChat wants literal UTF-8, not \u escapes (wechatpy does the same).
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return await self._call("POST", path, params={"access_token": token}, data=data)

    async def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        data: bytes | None = None,
    ) -> dict[str, Any]:
        try:
            return await self._request(method, path, params, data)
        except WeChatApiError as e:
            count_api_error(e.errcode)
            raise

    async def _request(
        self, method: str, path: str, params: dict[str, str], data: bytes | None
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json; charset=utf-8"} if data else None
        try:
            async with self._http().request(
                method, self._base_url + path, params=params, data=data, headers=headers
            ) as response:
                status = response.status
                raw = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            raise WeChatApiError(TRANSPORT_ERROR, f"{type(e).__name__}: {e}") from e
        if status >= 500:
            raise WeChatApiError(TRANSPORT_ERROR, f"HTTP {status}")
        if not 200 <= status < 300:
            raise WeChatApiError(HTTP_ERROR, f"HTTP {status}")
        try:
            result = json.loads(raw.decode("utf-8", "ignore"), strict=False)
        except ValueError as e:
            raise WeChatApiError(TRANSPORT_ERROR, "answer is not JSON") from e
        if not isinstance(result, dict):
            raise WeChatApiError(TRANSPORT_ERROR, "answer is not a JSON object")
        errcode = int(result.get("errcode") or 0)
        if errcode:
            raise WeChatApiError(errcode, str(result.get("errmsg", "")))
        return result
