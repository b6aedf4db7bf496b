"""The WeChat API client of the marketing commands, built from the environment.

The same variables as the channel's section of ``credentials.yml``
(``WECHAT_APP_ID``, ``WECHAT_APP_SECRET``, ``WECHAT_API_BASE_URL``,
``WECHAT_STORE``), so a send uses the bot's account and, with a Redis
``WECHAT_STORE``, the bot's shared access token instead of fetching a rival one.
``make run`` exports them (dev.env's samples in development).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import click

from wechat.api_client import WeChatApiClient
from wechat.config import (
    DEFAULT_API_BASE_URL,
    DEFAULT_API_TIMEOUT_S,
    DEFAULT_STORE,
    DEFAULT_STORE_TIMEOUT_S,
)
from wechat.storage import open_store


@asynccontextmanager
async def wechat_api(environ: Mapping[str, str]) -> AsyncIterator[WeChatApiClient]:
    """WeChat's API client for the account named in ``environ``, closed after use.

    Raises:
        click.ClickException: The AppID or AppSecret is not set.
    """
    app_id = environ.get("WECHAT_APP_ID", "").strip()
    app_secret = environ.get("WECHAT_APP_SECRET", "").strip()
    if not app_id or not app_secret:
        raise click.ClickException(
            "WECHAT_APP_ID and WECHAT_APP_SECRET must be set to call "
            "WeChat's API (the account of credentials.yml; make run sets dev.env's)"
        )
    base_url = environ.get("WECHAT_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
    store_url = environ.get("WECHAT_STORE", "").strip() or DEFAULT_STORE
    store = open_store(store_url, timeout_s=DEFAULT_STORE_TIMEOUT_S)
    client = WeChatApiClient(app_id, app_secret, store, base_url, DEFAULT_API_TIMEOUT_S)
    try:
        yield client
    finally:
        await client.close()
        await store.close()
