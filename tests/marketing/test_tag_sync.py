"""Segments mirrored to WeChat user tags through the local API stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from marketing.segments import Segment
from marketing.tag_sync import TAG_BATCH, sync_tags
from tests.wechat.fakes import APP_ID, APP_SECRET
from tools.wechat_sim.fake_api import TOO_MANY_OPENIDS, FakeWeChatApi
from wechat.api_client import WeChatApiClient
from wechat.storage import MemoryStore

FANS = Segment(name="earbud-fans", tag="耳机兴趣")
BUYERS = Segment(name="buyers", tag="已购客户")


@pytest.fixture
async def client(fake_api: FakeWeChatApi) -> AsyncIterator[WeChatApiClient]:
    api = WeChatApiClient(APP_ID, APP_SECRET, MemoryStore(), fake_api.base_url, 5.0)
    yield api
    await api.close()


def openids(n: int, prefix: str = "o_u") -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


async def test_tags_are_created_and_members_tagged_in_chunks(
    fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    fans = openids(120)
    results = await sync_tags(client, [(FANS, fans), (BUYERS, ["o_b1"])])
    assert [(r.segment, r.created, r.tagged, r.untagged, r.ok) for r in results] == [
        ("earbud-fans", True, 120, 0, True),
        ("buyers", True, 1, 0, True),
    ]
    assert fake_api.tags.tag_named("耳机兴趣") == set(fans)
    assert fake_api.tags.tag_named("已购客户") == {"o_b1"}
    # 120 openids in calls of at most 50.
    assert fake_api.tags.calls.count("batchtagging") == 3 + 1
    assert TAG_BATCH == 50


async def test_a_second_sync_untags_who_left_and_tags_who_joined(
    fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    await sync_tags(client, [(FANS, ["o_a", "o_b", "o_c"])])
    fake_api.tags.page_size = 2  # several pages of user/tag/get
    (result,) = await sync_tags(client, [(FANS, ["o_b", "o_c", "o_d"])])
    assert (result.created, result.tagged, result.untagged) == (False, 1, 1)
    assert fake_api.tags.tag_named("耳机兴趣") == {"o_b", "o_c", "o_d"}
    assert fake_api.tags.calls.count("create") == 1
    (again,) = await sync_tags(client, [(FANS, ["o_b", "o_c", "o_d"])])
    assert (again.tagged, again.untagged) == (0, 0)


async def test_a_refused_chunk_is_reported_and_the_rest_goes_on(
    fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    fake_api.tags.fail_next("batchtagging", TOO_MANY_OPENIDS)
    fans = openids(60)
    results = await sync_tags(client, [(FANS, fans), (BUYERS, ["o_b1"])])
    assert results[0].tagged == 10 and not results[0].ok
    assert results[0].errors == ["batchtagging: 40032 injected 40032"]
    assert results[1].ok and fake_api.tags.tag_named("已购客户") == {"o_b1"}
    assert fake_api.tags.tag_named("耳机兴趣") == set(fans[50:])


async def test_a_refused_tag_list_fails_every_segment_cleanly(
    fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    fake_api.tags.fail_next("get", -1)
    results = await sync_tags(client, [(FANS, ["o_a"]), (BUYERS, [])])
    assert [r.errors for r in results] == [["get: -1 injected -1"]] * 2
    assert fake_api.tags.names == {}


async def test_a_refused_creation_skips_that_segment(
    fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    fake_api.tags.fail_next("create", 45056)
    results = await sync_tags(client, [(FANS, ["o_a"]), (BUYERS, ["o_b"])])
    assert results[0].errors == ["create: 45056 injected 45056"]
    assert results[0].tag_id is None
    assert results[1].ok and fake_api.tags.tag_named("已购客户") == {"o_b"}


async def test_an_expired_token_is_refreshed(
    fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    await sync_tags(client, [(FANS, ["o_a"])])
    fake_api.expire_tokens()
    (result,) = await sync_tags(client, [(FANS, ["o_a", "o_b"])])
    assert result.ok and fake_api.token_fetches == 2
