"""The trained bot behind the WeChat channel, started the way ``make run`` starts it.

Marked ``e2e``: ``make test`` runs these after ``rasa train``. They start the action
server, the WeChat API stand-in and ``rasa run`` on free loopback ports and talk to
the channel through the simulator, in AES safe mode.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.core.domain import Domain

from marketing.store import MarketingStore
from tests.e2e_servers import (
    api_url,
    dev_credentials,
    free_port,
    marketing_url,
    running_bot,
)
from tools.fault_proxy import TcpProxy
from tools.wechat_sim.fake_api import FakeWeChatApiThread
from tools.wechat_sim.simulator import WeChatSimulator

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("E2E_MODEL", ROOT / "models"))

pytestmark = pytest.mark.e2e
# A turn is awaited for up to a minute (0.1 s apart) before a test gives up.
TURN_WAIT_TRIES = 600


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Starts actions, the API stand-in and Rasa; yields URLs and credentials."""
    if not (MODEL.is_file() or list(MODEL.glob("*.tar.gz"))):
        pytest.fail(f"no trained model in {MODEL}: run `make train` first")
    wechat = dev_credentials(ROOT / "credentials.yml")
    api = FakeWeChatApiThread(wechat["app_id"], wechat["app_secret"])
    wechat["api_base_url"] = api.api.base_url
    folder = tmp_path_factory.mktemp("wechat_e2e")
    credentials = folder / "credentials.yml"
    credentials.write_text(
        yaml.safe_dump({"channels.wechat.WeChatInput": wechat}), encoding="utf-8"
    )
    # Rasa calls the action server through a proxy a test can stop.
    actions_port = free_port()
    actions = TcpProxy(actions_port)
    actions.start()
    try:
        with running_bot(
            folder,
            credentials,
            MODEL,
            name="e2e-wechat",
            ready_path="/webhooks/wechat/",
            actions_port=actions_port,
            action_url=actions.url_for("http", "/webhook"),
        ) as base:
            yield {
                "url": base,
                "wechat": wechat,
                "api": api.api,
                "actions": actions,
                "marketing": MarketingStore.from_url(marketing_url(folder)),
            }
    finally:
        actions.stop()
        api.stop()


def simulator(bot: dict[str, Any]) -> WeChatSimulator:
    wechat = bot["wechat"]
    return WeChatSimulator(
        bot["url"] + "/webhooks/wechat/webhook",
        wechat["token"],
        wechat["app_id"],
        encoding_aes_key=wechat["encoding_aes_key"],
        account=wechat["account"],
    )


def tracker(bot: dict[str, Any], sender: str) -> dict[str, Any]:
    url = api_url(bot["url"], f"/conversations/{sender}/tracker")
    with urllib.request.urlopen(url, timeout=30) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


async def turn_of(bot: dict[str, Any], sender: str, text: str) -> list[dict[str, Any]]:
    """The events after the latest user message ``text``, once its turn is over.

    WeChat gets ``success`` for an unfollow when the turn ends or, for a slower
    turn, at the reply deadline; the turn is over when the bot listens again.
    """
    for _ in range(TURN_WAIT_TRIES):
        events: list[dict[str, Any]] = tracker(bot, sender)["events"]
        users = [i for i, e in enumerate(events) if e["event"] == "user"]
        if users and events[users[-1]]["text"] == text:
            turn = events[users[-1] + 1 :]
            last = turn[-1] if turn else {}
            if (last.get("event"), last.get("name")) == ("action", "action_listen"):
                return turn
        await asyncio.sleep(0.1)
    pytest.fail(f"the turn of {text!r} did not end")


@pytest.fixture(scope="module")
def responses() -> dict[str, list[str]]:
    domain = Domain.load(str(ROOT / "domain.yml"))
    return {name: [r["text"] for r in rs] for name, rs in domain.responses.items()}


@pytest.fixture(scope="module")
def greetings(responses: dict[str, list[str]]) -> list[str]:
    return responses["utter_greet"]


async def seen(
    bot: dict[str, Any], sim: WeChatSimulator, sender: str, text: str
) -> str:
    """What the customer sees for ``text``: the passive answer, else the pushed ones."""
    before = len(bot["api"].texts_for(sender))
    reply = await sim.send(sim.text(sender, text))
    assert reply.status == 200
    if reply.text:
        return reply.text
    for _ in range(TURN_WAIT_TRIES):
        pushed = bot["api"].texts_for(sender)[before:]
        if pushed:
            return "\n".join(pushed)
        await asyncio.sleep(0.1)
    pytest.fail(f"nothing answered {text!r}")


async def test_subscribe_is_greeted_passively(
    bot: dict[str, Any], greetings: list[str]
) -> None:
    async with simulator(bot) as sim:
        reply = await sim.send(sim.event("e2e-wx-sub", "subscribe", "qrscene_store_sh"))
    assert reply.text in greetings
    events = tracker(bot, "e2e-wx-sub")["events"]
    user = [e for e in events if e["event"] == "user"]
    assert user[0]["metadata"]["wechat"]["scene"] == "store_sh"


async def test_a_question_is_answered(bot: dict[str, Any]) -> None:
    async with simulator(bot) as sim:
        reply = await sim.send(sim.text("e2e-wx-price", "X5 Pro多少钱"))
    assert reply.status == 200
    answer = reply.text or " ".join(bot["api"].texts_for("e2e-wx-price"))
    assert "X5" in answer


async def test_three_tries_at_once_make_one_user_event(bot: dict[str, Any]) -> None:
    async with simulator(bot) as sim:
        message = sim.text("e2e-wx-dup", "有什么优惠活动")
        replies = await asyncio.gather(*(sim.post(message) for _ in range(3)))
    assert {r.status for r in replies} == {200}
    assert len({r.text for r in replies}) == 1
    events = tracker(bot, "e2e-wx-dup")["events"]
    assert len([e for e in events if e["event"] == "user"]) == 1


async def test_unfollow_records_the_opt_out_in_one_silent_turn(
    bot: dict[str, Any],
) -> None:
    sender = "e2e-wx-bye"
    async with simulator(bot) as sim:
        reply = await sim.send(sim.event(sender, "unsubscribe"))
    assert (reply.status, reply.body) == (200, "success")
    turn = await turn_of(bot, sender, "/unfollow")
    events = tracker(bot, sender)["events"]
    [user] = [e for e in events if e["event"] == "user"]
    assert user["parse_data"]["intent"]["name"] == "unfollow"
    # The policies chose action_unsubscribe: the channel ran no action itself.
    actions = [(e["name"], e["policy"]) for e in turn if e["event"] == "action"]
    assert [name for name, _ in actions] == ["action_unsubscribe", "action_listen"]
    assert "RulePolicy" in str(actions[0][1])
    assert not [e for e in events if e["event"] == "bot"]
    assert tracker(bot, sender)["slots"]["marketing_opt_out"] is True
    assert bot["marketing"].is_opted_out(sender)
    assert bot["api"].texts_for(sender) == []


async def test_action_server_down_gets_an_apology_not_silence(
    bot: dict[str, Any], responses: dict[str, list[str]]
) -> None:
    sender = "e2e-wx-actions-down"
    bot["actions"].stop()
    try:
        async with simulator(bot) as sim:
            answer = await seen(bot, sim, sender, "推荐一款降噪耳机")
    finally:
        bot["actions"].start()
    assert answer in responses["utter_wechat_apology"]
    async with simulator(bot) as sim:
        again = await seen(bot, sim, sender, "推荐一款降噪耳机")
    assert again not in responses["utter_wechat_apology"]


async def test_delete_my_data_leaves_nothing_of_the_customer(
    bot: dict[str, Any], responses: dict[str, list[str]]
) -> None:
    sender = "e2e-wx-erase"
    async with simulator(bot) as sim:
        await seen(bot, sim, sender, "推荐一款降噪耳机")
        await turn_of(bot, sender, "推荐一款降噪耳机")
        assert bot["marketing"].history(sender)  # impressions were logged
        confirm = await seen(bot, sim, sender, "删除我的数据")
        assert confirm.startswith(responses["utter_confirm_delete_data"][0])
        # "1": the first button of the numbered menu, 确认删除.
        done = await seen(bot, sim, sender, "1")
    assert done in responses["utter_data_deleted"]
    for _ in range(TURN_WAIT_TRIES):
        texts = [e.get("text") for e in tracker(bot, sender)["events"]]
        if not {"推荐一款降噪耳机", "删除我的数据"} & set(texts):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the conversation is still in the tracker store")
    assert bot["marketing"].history(sender) == []
