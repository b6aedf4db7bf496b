"""The webhook with Redis really unavailable: still answered, once, in time.

The channel's store is ``open_store`` on a Redis URL (Redis with failover to
memory) pointed at ``redis_proxy``, a real TCP proxy in front of the local Redis,
which the test stops (connection refused) or hangs (accepts, never answers).
"""

from __future__ import annotations

import logging

import pytest

from tests.channels.conftest import ServeFactory
from tests.faults import TcpProxy
from wechat.config import DEFAULT_STORE_TIMEOUT_S
from wechat.storage import open_store

# WeChat waits 5 s for an answer.
WECHAT_WAIT_S = 5.0


@pytest.mark.parametrize("fault", ["stop", "hang"])
async def test_redis_down_or_hung_still_answers_once_and_warns(
    serve: ServeFactory,
    redis_proxy: TcpProxy,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    store = open_store(
        redis_proxy.url_for("redis", "/0"), redis_prefix, DEFAULT_STORE_TIMEOUT_S
    )
    served = await serve(store=store)
    sim = served.sim
    assert (await sim.post(sim.text("o1", "在吗"))).text == "收到：在吗"

    getattr(redis_proxy, fault)()
    caplog.set_level(logging.WARNING, logger="wechat.storage")
    message = sim.text("o1", "X5 Pro多少钱")
    reply = await sim.send(message)
    assert (reply.status, reply.tries) == (200, 1)
    assert reply.elapsed_s < WECHAT_WAIT_S
    assert reply.text == "收到：X5 Pro多少钱"
    # WeChat's retry is recognised by the in-process de-dup: no second turn.
    retry = await sim.post(message)
    assert retry.text == "收到：X5 Pro多少钱"
    await served.settle()
    assert served.agent.texts() == ["在吗", "X5 Pro多少钱"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "memory" in warnings[0].getMessage()
