"""The customer-service API client against the fake WeChat API server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from tests.wechat.fakes import APP_ID, APP_SECRET
from tools.wechat_sim.fake_api import FakeWeChatApi
from wechat.api_client import WeChatApiClient
from wechat.errors import WeChatApiError
from wechat.storage import KeyValueStore, MemoryStore, RedisStore

ClientFactory = Callable[..., WeChatApiClient]


@pytest.fixture
async def make_client(fake_api: FakeWeChatApi) -> AsyncIterator[ClientFactory]:
    clients: list[WeChatApiClient] = []

    def factory(
        store: KeyValueStore | None = None, secret: str = APP_SECRET
    ) -> WeChatApiClient:
        client = WeChatApiClient(
            APP_ID, secret, store or MemoryStore(), fake_api.base_url, timeout_s=5
        )
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


def text(openid: str, content: str) -> dict[str, object]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


async def test_sends_utf8_json_with_a_fetched_token(
    make_client: ClientFactory, fake_api: FakeWeChatApi
) -> None:
    client = make_client()
    await client.send_message(text("o1", "你好😀"))
    assert fake_api.token_fetches == 1
    assert fake_api.texts_for("o1") == ["你好😀"]
    await client.send_message(text("o1", "再来"))
    assert fake_api.token_fetches == 1  # cached


async def test_50_concurrent_first_sends_fetch_one_token(
    make_client: ClientFactory, fake_api: FakeWeChatApi
) -> None:
    client = make_client()
    await asyncio.gather(*(client.send_message(text(f"o{i}", "x")) for i in range(50)))
    assert fake_api.token_fetches == 1
    assert len(fake_api.deliveries) == 50


async def test_40001_under_50_concurrent_sends_refreshes_once(
    make_client: ClientFactory, fake_api: FakeWeChatApi
) -> None:
    client = make_client()
    await client.send_message(text("warm", "up"))
    fake_api.expire_tokens()
    await asyncio.gather(*(client.send_message(text(f"o{i}", "x")) for i in range(50)))
    assert fake_api.token_fetches == 2  # the first token and exactly one refresh
    assert len(fake_api.deliveries) == 51


async def test_40001_across_two_replicas_sharing_redis_refreshes_once(
    make_client: ClientFactory,
    fake_api: FakeWeChatApi,
    redis_url: str,
    redis_prefix: str,
) -> None:
    stores = [RedisStore.from_url(redis_url, redis_prefix) for _ in range(2)]
    replicas = [make_client(store) for store in stores]
    await replicas[0].send_message(text("warm", "up"))
    fake_api.expire_tokens()
    await asyncio.gather(
        *(replicas[i % 2].send_message(text(f"o{i}", "x")) for i in range(50))
    )
    assert fake_api.token_fetches == 2
    assert len(fake_api.deliveries) == 51
    for store in stores:
        await store.close()


async def test_a_token_still_rejected_after_the_refresh_raises(
    make_client: ClientFactory, fake_api: FakeWeChatApi
) -> None:
    client = make_client()
    fake_api.fail_next(40001, times=2)
    with pytest.raises(WeChatApiError) as error:
        await client.send_message(text("o1", "x"))
    assert error.value.errcode == 40001
    assert fake_api.token_fetches == 2  # one refresh, no loop


@pytest.mark.parametrize("errcode", [45015, 48001, 45047])
async def test_other_errcodes_raise_without_retry(
    make_client: ClientFactory, fake_api: FakeWeChatApi, errcode: int
) -> None:
    client = make_client()
    fake_api.fail_next(errcode)
    with pytest.raises(WeChatApiError) as error:
        await client.send_message(text("o1", "x"))
    assert error.value.errcode == errcode
    assert fake_api.send_calls == 1


async def test_wrong_secret_is_an_api_error(
    make_client: ClientFactory, fake_api: FakeWeChatApi
) -> None:
    client = make_client(secret="wrong")
    with pytest.raises(WeChatApiError) as error:
        await client.send_message(text("o1", "x"))
    assert error.value.errcode == 40125


async def test_unreachable_server_is_a_transport_error() -> None:
    client = WeChatApiClient(APP_ID, APP_SECRET, MemoryStore(), "http://127.0.0.1:9", 1)
    with pytest.raises(WeChatApiError) as error:
        await client.send_message(text("o1", "x"))
    assert error.value.errcode == -1
    await client.close()


async def test_token_is_shared_through_the_store(
    make_client: ClientFactory, fake_api: FakeWeChatApi
) -> None:
    store = MemoryStore()
    await make_client(store).send_message(text("o1", "x"))
    await make_client(store).send_message(text("o2", "y"))
    assert fake_api.token_fetches == 1


@pytest.mark.parametrize(("status", "errcode"), [(502, -1), (503, -1), (404, -2)])
async def test_http_errors_are_api_errors(
    make_client: ClientFactory, fake_api: FakeWeChatApi, status: int, errcode: int
) -> None:
    client = make_client()
    fake_api.fail_http_next(status)
    with pytest.raises(WeChatApiError) as error:
        await client.send_message(text("o1", "x"))
    assert (error.value.errcode, error.value.errmsg) == (errcode, f"HTTP {status}")
    await client.send_message(text("o1", "y"))
    assert fake_api.texts_for("o1") == ["y"]
