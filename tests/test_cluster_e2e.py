"""The cluster of ``make run-cluster``, with a Rasa replica killed mid-run.

Marked ``e2e``: it needs the trained model. Real nginx in front of two ``rasa
run`` replicas and two action servers, real Redis (locks, claims), PostgreSQL
(trackers, marketing store; scratch databases), RabbitMQ (events; a scratch
queue). Simulated WeChat users send signed, encrypted pushes through nginx;
some of WeChat's retries of a MsgId reach the other replica directly, some
users' bursts alternate between the replicas, and one replica is killed
(SIGKILL) while turns run. Then every message must have been answered (the
passive answer or a customer-service message), and the PostgreSQL tracker store
must hold each user message exactly once, in the order it was sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.services import service_unavailable
from tools.bot_servers import StartupError
from tools.cluster import (
    WEBHOOK_PATH,
    Cluster,
    ClusterPorts,
    cluster_environment,
    delete_queue,
    nginx_binary,
    running_cluster,
)
from tools.scratch_database import scratch_database
from tools.wechat_sim.fake_api import FakeWeChatApiThread
from tools.wechat_sim.simulator import WeChatSimulator

ROOT = Path(__file__).resolve().parents[1]
MODEL = Path(os.environ.get("E2E_MODEL", ROOT / "models"))
USERS = 16
MESSAGES = 6
# A message counts as lost when no answer came within this long (the lock of a
# killed replica holds its conversations for TICKET_LOCK_LIFETIME, 15 s).
LOST_AFTER_S = 60.0
UTTERANCES = (
    "你好",
    "X5 Pro多少钱",
    "最近有什么优惠",
    "下单后多久发货",
    "怎么退货",
    "谢谢",
)

pytestmark = pytest.mark.e2e


@dataclass
class Sent:
    """What one user sent and saw."""

    msg_ids: list[str] = field(default_factory=list)
    answered: int = 0
    lost: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The cluster on free ports, scratch databases and queue; the API stand-in."""
    if not (MODEL.is_file() or list(MODEL.glob("*.tar.gz"))):
        pytest.fail(f"no trained model in {MODEL}: run `make train` first")
    try:
        nginx_binary()
    except StartupError as e:
        service_unavailable(str(e))
    environment = cluster_environment()
    api = FakeWeChatApiThread(
        environment["WECHAT_APP_ID"], environment["WECHAT_APP_SECRET"]
    )
    queue = f"aurora_test_{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("cluster")
    try:
        with (
            scratch_database("cluster_rasa") as trackers,
            scratch_database("cluster_marketing") as marketing,
        ):
            environment.update(
                RASA_TRACKER_STORE_URL=f"postgresql://postgres@127.0.0.1:5432/{trackers}",
                AURORA_DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{marketing}",
                RABBITMQ_QUEUE=queue,
                WECHAT_API_BASE_URL=api.api.base_url,
                AURORA_DATA_KEY_FILE=str(folder / "data.key"),
                WECHAT_STORE="redis://127.0.0.1:6379/0",
            )
            try:
                with running_cluster(
                    folder, MODEL, environment, ClusterPorts.free()
                ) as running:
                    yield {
                        "cluster": running,
                        "environment": environment,
                        "api": api.api,
                        "trackers": trackers,
                        "folder": folder,
                    }
            except StartupError as e:
                pytest.fail(f"the cluster did not start: {e} (logs in {folder})")
    finally:
        api.stop()
        delete_queue({**environment, "RABBITMQ_QUEUE": queue})


def simulator(cluster: dict[str, Any], url: str) -> WeChatSimulator:
    environment = cluster["environment"]
    return WeChatSimulator(
        url,
        environment["WECHAT_TOKEN"],
        environment["WECHAT_APP_ID"],
        encoding_aes_key=environment["WECHAT_ENCODING_AES_KEY"],
        account=environment["WECHAT_ACCOUNT"],
    )


async def answered(
    cluster: dict[str, Any], sim: WeChatSimulator, fields: dict[str, Any]
) -> bool:
    """Sends ``fields`` as WeChat does; True once the user saw an answer."""
    api = cluster["api"]
    openid = fields["FromUserName"]
    seen = len(api.texts_for(openid))
    reply = await sim.send(fields)
    if reply.fields:
        return True
    deadline = asyncio.get_running_loop().time() + LOST_AFTER_S
    while asyncio.get_running_loop().time() < deadline:
        if len(api.texts_for(openid)) > seen:
            return True
        await asyncio.sleep(0.1)
    return False


async def conversation(
    cluster: dict[str, Any], sims: list[WeChatSimulator], openid: str, sent: Sent
) -> None:
    """One user: messages one at a time through nginx, retries on the other side.

    Every third message is also posted, at the same moment, straight to a
    replica: a retry of the same MsgId landing elsewhere than the first try.
    """
    nginx, *replicas = sims
    pause = random.Random(openid)
    for index in range(MESSAGES):
        fields = nginx.text(openid, UTTERANCES[index % len(UTTERANCES)])
        sent.msg_ids.append(f"msg:{fields['MsgId']}")
        if index % 3 == 2:
            other = replicas[index % len(replicas)]
            results = await asyncio.gather(
                answered(cluster, nginx, fields), other.post(fields)
            )
            ok = results[0]
        else:
            ok = await answered(cluster, nginx, fields)
        if ok:
            sent.answered += 1
        else:
            sent.lost.append(sent.msg_ids[-1])
        await asyncio.sleep(pause.uniform(0.1, 0.6))


async def burst(
    cluster: dict[str, Any], sims: list[WeChatSimulator], openid: str, sent: Sent
) -> None:
    """One user's quick burst through nginx, 0.4 s apart, not waiting for answers.

    Sent while a replica is killed: the follower's first messages reach the
    replica nginx hashes them to, the rest the other one once it died, and those
    in flight on the dead one come back through nginx or a sweep. Turns must
    still run once each, in the order the follower sent the messages.
    """
    nginx = sims[0]

    async def send(fields: dict[str, Any]) -> bool:
        return await answered(cluster, nginx, fields)

    tasks = []
    for index in range(MESSAGES):
        fields = nginx.text(openid, UTTERANCES[index])
        sent.msg_ids.append(f"msg:{fields['MsgId']}")
        tasks.append(asyncio.ensure_future(send(fields)))
        await asyncio.sleep(0.4)
    for ok, msg_id in zip(await asyncio.gather(*tasks), sent.msg_ids, strict=True):
        if ok:
            sent.answered += 1
        else:
            sent.lost.append(msg_id)


def user_messages(cluster: dict[str, Any]) -> dict[str, list[tuple[str, bool]]]:
    """Each sender's user message ids in tracker order; whether the bot answered."""
    url = f"postgresql://postgres@127.0.0.1:5432/{cluster['trackers']}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT sender_id, type_name, data FROM events "
                    "WHERE type_name IN ('user', 'bot') ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    messages: dict[str, list[tuple[str, bool]]] = {}
    for sender, kind, data in rows:
        turns = messages.setdefault(sender, [])
        if kind == "user":
            turns.append((json.loads(data).get("message_id") or "", False))
        elif turns:
            turns[-1] = (turns[-1][0], True)
    return messages


async def test_every_message_is_answered_once_in_order_with_a_replica_killed(
    cluster: dict[str, Any],
) -> None:
    running: Cluster = cluster["cluster"]
    sims = [simulator(cluster, running.webhook_url)] + [
        simulator(cluster, running.replica_url(i) + WEBHOOK_PATH) for i in range(2)
    ]
    talkers = {f"o_cluster_{i:02d}": Sent() for i in range(USERS)}
    bursters = {f"o_burst_{i:02d}": Sent() for i in range(USERS // 4)}
    talking = asyncio.gather(
        *(conversation(cluster, sims, o, s) for o, s in talkers.items())
    )
    await asyncio.sleep(3.0)
    bursting = asyncio.gather(
        *(burst(cluster, sims, o, s) for o, s in bursters.items())
    )
    # Kill a replica in the middle of the bursts, while conversations run on it.
    await asyncio.sleep(1.0)
    assert not talking.done(), "the conversations ended before the kill"
    running.kill("rasa-1")
    await asyncio.gather(talking, bursting)
    for sim in sims:
        await sim.close()
    # Late API replies of taken-over turns.
    await asyncio.sleep(2.0)

    tracked = user_messages(cluster)
    lost = {o: s.lost for o, s in {**talkers, **bursters}.items() if s.lost}
    assert not lost, f"not answered: {lost}"
    for openid, sent in {**talkers, **bursters}.items():
        ids = [message_id for message_id, _ in tracked.get(openid, [])]
        assert ids == sent.msg_ids, f"{openid}: tracker {ids} != sent {sent.msg_ids}"
        unanswered = [m for m, replied in tracked[openid] if not replied]
        assert not unanswered, f"{openid}: no bot reply after {unanswered}"
    # The kill hit turns in flight: the survivor took some over (or finished
    # them in a sweep), which is what this test is about.
    survivor_log = (cluster["folder"] / "rasa-2.log").read_text(errors="replace")
    takeovers = survivor_log.count("taking the turn over")
    takeovers += survivor_log.count("finishing the turn here")
    print(f"turns taken over by the surviving replica: {takeovers}")
    assert takeovers >= 1
