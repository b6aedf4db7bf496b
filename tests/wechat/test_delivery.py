"""Retries and the durable retry queue, against the WeChat API stand-in on loopback.

The stand-in answers HTTP 5xx or errcode -1 ("system busy") as told, then recovers;
the real ``WeChatApiClient`` talks to it, the real ``DurableQueue`` keeps what waits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from outbox.queue import DurableQueue
from telemetry import correlation
from tests.wechat.fakes import APP_ID, APP_SECRET
from tools.wechat_sim.fake_api import FakeWeChatApi
from wechat.api_client import TRANSPORT_ERROR, WeChatApiClient
from wechat.delivery import QUEUE_KIND, Delivery
from wechat.errors import WeChatApiError
from wechat.storage import MemoryStore

DeliveryFactory = Callable[..., Delivery]


class Pauses:
    """An injected ``sleep`` that records its pauses and does not wait."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
async def client(fake_api: FakeWeChatApi) -> AsyncIterator[WeChatApiClient]:
    api = WeChatApiClient(APP_ID, APP_SECRET, MemoryStore(), fake_api.base_url, 5)
    yield api
    await api.close()


@pytest.fixture
async def make_delivery(
    client: WeChatApiClient, tmp_path: Path
) -> AsyncIterator[DeliveryFactory]:
    made: list[Delivery] = []

    def factory(**kwargs: Any) -> Delivery:
        kwargs.setdefault("queue_path", tmp_path / "retry.db")
        kwargs.setdefault("sleep", Pauses())
        kwargs.setdefault("queue_base_delay_s", 0.05)
        kwargs.setdefault("jitter", lambda: 0.5)
        delivery = Delivery(kwargs.pop("api", client), **kwargs)
        made.append(delivery)
        return delivery

    yield factory
    for delivery in made:
        await delivery.close()


def text(openid: str, content: str) -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


async def until_sent(delivery: Delivery, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while await delivery.pending():
        assert time.monotonic() < deadline, "the queue was not flushed"
        await asyncio.sleep(0.02)


async def test_5xx_twice_is_retried_with_growing_pauses(
    make_delivery: DeliveryFactory, fake_api: FakeWeChatApi, tmp_path: Path
) -> None:
    pauses = Pauses()
    delivery = make_delivery(sleep=pauses)
    fake_api.fail_http_next(502, times=2)
    await delivery.deliver("o1", [text("o1", "一"), text("o1", "二")])
    assert fake_api.texts_for("o1") == ["一", "二"]
    assert pauses.seconds == [0.2, 0.4]  # 0.2 s doubled, jitter at its middle
    assert not (tmp_path / "retry.db").exists()  # nothing was queued


async def test_outage_queues_then_resends_in_order_once(
    make_delivery: DeliveryFactory, fake_api: FakeWeChatApi, tmp_path: Path
) -> None:
    delivery = make_delivery()
    # Three tries of 一 fail (HTTP 503, system busy, 503); the worker's first
    # resend fails once more; then WeChat is back.
    fake_api.fail_http_next(503)
    fake_api.fail_next(-1)
    fake_api.fail_http_next(503)
    fake_api.fail_next(-1)
    await delivery.deliver("o1", [text("o1", "一"), text("o1", "二")])
    # Later replies of the same openid queue behind; other openids go straight.
    await delivery.deliver("o1", [text("o1", "三")])
    await delivery.deliver("o2", [text("o2", "别人的")])
    await until_sent(delivery)
    assert fake_api.texts_for("o1") == ["一", "二", "三"]
    assert fake_api.texts_for("o2") == ["别人的"]
    assert len(fake_api.deliveries) == 4  # nothing sent twice
    # New replies of o1 go straight again once its queue is empty.
    await delivery.deliver("o1", [text("o1", "四")])
    assert fake_api.texts_for("o1")[-1] == "四"
    assert DurableQueue(tmp_path / "retry.db").pending(QUEUE_KIND) == 0


async def test_a_new_process_resends_what_the_last_one_left(
    make_delivery: DeliveryFactory, fake_api: FakeWeChatApi, tmp_path: Path
) -> None:
    queue = DurableQueue(tmp_path / "retry.db")
    queue.put(QUEUE_KIND, text("o1", "重启前"), user_id="o1")
    delivery = make_delivery()
    await delivery.deliver("o1", [text("o1", "重启后")])  # behind the old one
    await until_sent(delivery)
    assert fake_api.texts_for("o1") == ["重启前", "重启后"]


async def test_start_resends_without_a_new_delivery(
    make_delivery: DeliveryFactory, fake_api: FakeWeChatApi, tmp_path: Path
) -> None:
    DurableQueue(tmp_path / "retry.db").put(
        QUEUE_KIND, text("o1", "留下的"), user_id="o1"
    )
    delivery = make_delivery()
    await delivery.start()
    await until_sent(delivery)
    assert fake_api.texts_for("o1") == ["留下的"]


async def test_gives_up_after_wechats_48_hour_window(
    make_delivery: DeliveryFactory,
    fake_api: FakeWeChatApi,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1_000_000.0]
    queue = DurableQueue(tmp_path / "retry.db", clock=lambda: now[0])
    queue.put(QUEUE_KIND, text("o1", "太晚了"), user_id="o1")
    now[0] += 48 * 3600 + 1
    delivery = make_delivery(clock=lambda: now[0])
    with caplog.at_level(logging.ERROR, logger="wechat.delivery"):
        await delivery.start()
        await until_sent(delivery)
    assert fake_api.send_calls == 0
    assert "48-hour window is over" in caplog.text


@pytest.mark.parametrize("errcode", [45015, 48001])
async def test_gives_up_when_wechat_refuses_for_good(
    make_delivery: DeliveryFactory,
    fake_api: FakeWeChatApi,
    errcode: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    switched: list[bool] = []

    async def on_not_authorised() -> None:
        switched.append(True)

    delivery = make_delivery(on_not_authorised=on_not_authorised)
    fake_api.fail_next(-1, times=3)
    fake_api.fail_next(errcode)
    with caplog.at_level(logging.ERROR, logger="wechat.delivery"):
        await delivery.deliver("o1", [text("o1", "一"), text("o1", "二")])
        await until_sent(delivery)
    assert fake_api.deliveries == []
    assert "Gave up on 2 queued replies" in caplog.text
    assert switched == ([True] if errcode == 48001 else [])


async def test_a_queue_that_cannot_be_written_logs_the_lost_replies(
    make_delivery: DeliveryFactory,
    fake_api: FakeWeChatApi,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "not_a_folder").write_text("")
    delivery = make_delivery(queue_path=tmp_path / "not_a_folder" / "retry.db")
    fake_api.fail_next(-1, times=3)
    with caplog.at_level(logging.ERROR, logger="wechat.delivery"):
        await delivery.deliver("o1", [text("o1", "一"), text("o1", "二")])
    assert "2 replies to o1 lost" in caplog.text


async def test_erase_drops_the_openids_queued_replies_only(
    make_delivery: DeliveryFactory, fake_api: FakeWeChatApi, tmp_path: Path
) -> None:
    delivery = make_delivery(queue_base_delay_s=60)
    fake_api.fail_next(-1, times=6)
    await delivery.deliver("o1", [text("o1", "删我"), text("o1", "也删")])
    await delivery.deliver("o2", [text("o2", "留着")])
    assert await delivery.pending() == 3
    assert await delivery.erase("o1") == 2
    assert await delivery.erase("o1") == 0
    queue = DurableQueue(tmp_path / "retry.db", clock=lambda: time.time() + 3600)
    assert [e.user_id for e in queue.due(kind=QUEUE_KIND)] == ["o2"]


async def test_erase_without_a_queue_file_creates_none(
    make_delivery: DeliveryFactory, tmp_path: Path
) -> None:
    assert await make_delivery().erase("o1") == 0
    assert not (tmp_path / "retry.db").exists()


class IdRecordingApi:
    """Fails the first ``failures`` sends (-1); records each send's correlation id."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.ids: list[str | None] = []

    async def send_message(self, body: dict[str, Any]) -> None:
        self.ids.append(correlation.correlation_id())
        if len(self.ids) <= self.failures:
            raise WeChatApiError(TRANSPORT_ERROR, "busy")


async def test_the_background_resend_logs_under_no_message_s_id(
    make_delivery: DeliveryFactory,
) -> None:
    api = IdRecordingApi(failures=3)  # every foreground try fails: queued
    delivery = make_delivery(api=api)

    async def a_turn() -> str:
        bound = correlation.bind_message("msg:1", "o1")
        await delivery.deliver("o1", [text("o1", "晚到的回复")])
        return bound

    bound = await asyncio.ensure_future(a_turn())
    await until_sent(delivery)
    assert api.ids[:3] == [bound] * 3  # the turn's own tries
    assert api.ids[3:] == [None]  # resent by the task the turn started
