"""The end-to-end WeChat benchmark against the cluster of ``make run-cluster``.

The same simulated users as the single process (``benchmarks.webhook_e2e``),
through nginx in front of two Rasa replicas and two action servers, on the
local Redis, PostgreSQL (scratch databases, dropped afterwards) and RabbitMQ (a
scratch queue, consumed by ``aurora-marketing consume-events`` as in the
cluster). Both replicas share this machine's cores with everything else: on 2
cores the cluster shows what the topology costs, not what more machines gain.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from benchmarks.webhook_e2e import Account, EndToEndReport, load_bot
from tools.cluster import (
    ClusterPorts,
    cluster_environment,
    delete_queue,
    running_cluster,
)
from tools.scratch_database import scratch_database
from tools.wechat_sim.fake_api import FakeWeChatApi

POSTGRES = "postgresql://postgres@127.0.0.1:5432"


async def run_cluster_patterns(
    model_path: str, users: int, messages: int, think_times: Sequence[float]
) -> list[EndToEndReport]:
    """Starts the cluster once and loads it with each think time in turn.

    Args:
        model_path: the trained model (``.tar.gz``) every replica serves.
        users: simulated users, all at once.
        messages: messages per user (the first is a ``subscribe`` event).
        think_times: mean pause between a user's messages, one run each.
    """
    account = Account()
    api = await FakeWeChatApi(account.app_id, account.app_secret).start()
    queue = f"aurora_bench_{uuid.uuid4().hex[:8]}"
    reports = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-cluster-") as name,
            scratch_database("bench_rasa") as trackers,
            scratch_database("bench_marketing") as marketing,
            ExitStack() as stack,
        ):
            folder = Path(name)
            tracker_store_url = f"{POSTGRES}/{trackers}"
            environment = cluster_environment()
            environment.update(
                WECHAT_TOKEN=account.token,
                WECHAT_APP_ID=account.app_id,
                WECHAT_APP_SECRET=account.app_secret,
                WECHAT_ENCODING_AES_KEY=account.encoding_aes_key,
                WECHAT_ACCOUNT=account.account,
                WECHAT_API_BASE_URL=api.base_url,
                RASA_TRACKER_STORE_URL=tracker_store_url,
                AURORA_DATABASE_URL=f"{POSTGRES}/{marketing}",
                AURORA_DATA_KEY_FILE=str(folder / "data.key"),
                RABBITMQ_QUEUE=queue,
            )
            cluster = running_cluster(
                folder,
                Path(model_path),
                environment,
                ClusterPorts.free(),
                workers=("consumer",),
            )
            # Starting takes a few minutes; the API stand-in serves meanwhile.
            running = await asyncio.to_thread(stack.enter_context, cluster)
            base = f"http://127.0.0.1:{running.ports.webhook}"
            for think_s in think_times:
                reports.append(
                    await load_bot(
                        [base], api, tracker_store_url, users, messages, think_s,
                        account,
                    )
                )  # fmt: skip
            await asyncio.to_thread(stack.close)
            await asyncio.to_thread(delete_queue, environment)
    finally:
        await api.stop()
    return reports
