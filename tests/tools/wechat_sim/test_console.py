"""The ``make wechat-sim`` console: commands to WeChat messages, replies to lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_servers import dev_environment
from tests.wechat.fakes import APP_ID, TOKEN
from tools.wechat_sim.console import HELP, Console, describe, load_credentials
from tools.wechat_sim.simulator import Reply, WeChatSimulator

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def console() -> Iterator[Console]:
    yield Console(WeChatSimulator("http://127.0.0.1:9/x", TOKEN, APP_ID), "o_me")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("你好", {"MsgType": "text", "Content": "你好"}),
        ("/greet", {"MsgType": "text", "Content": "/greet"}),
        ("/voice 有优惠吗", {"MsgType": "voice", "Recognition": "有优惠吗"}),
        ("/subscribe store_sh", {"Event": "subscribe", "EventKey": "qrscene_store_sh"}),
        ("/unsubscribe", {"Event": "unsubscribe"}),
        ("/click MENU_PROMOTION", {"Event": "CLICK", "EventKey": "MENU_PROMOTION"}),
        ("/scan store_bj", {"Event": "SCAN", "EventKey": "store_bj"}),
        (
            "/location 31.2 121.4 上海市徐汇区",
            {"MsgType": "location", "Label": "上海市徐汇区"},
        ),
        ("/image", {"MsgType": "image"}),
        ("/link 极光耳机 https://u", {"MsgType": "link", "Title": "极光耳机"}),
    ],
)
def test_lines_become_messages(
    console: Console, line: str, expected: dict[str, str]
) -> None:
    message = console.message_for(line)
    assert isinstance(message, dict)
    assert message["FromUserName"] == "o_me"
    assert {k: message[k] for k in expected} == expected


def test_console_commands(console: Console) -> None:
    assert console.message_for("/help") == HELP
    assert console.message_for("/quit") is None
    assert console.message_for("/retry") == "(nothing to send again)"
    voice = console.message_for("/voice")
    assert isinstance(voice, dict) and "Recognition" not in voice
    assert console.message_for("/user o_other") == "(now talking as o_other)"
    assert console.openid == "o_other"


def test_describe() -> None:
    assert describe(Reply(0, "", tries=3)) == [
        "(no answer after 3 tries: WeChat gives up)"
    ]
    assert describe(Reply(200, "success"))[0].startswith("(success")
    text = describe(Reply(200, "<xml/>", {"MsgType": "text", "Content": "你好"}))
    assert text[0] == "小极: 你好"


def test_credentials_take_their_values_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in dev_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WECHAT_TOKEN", "from-the-environment")
    credentials = load_credentials(ROOT / "credentials.yml")
    assert credentials["token"] == "from-the-environment"
    assert credentials["app_id"] == dev_environment()["WECHAT_APP_ID"]


def test_an_unset_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in dev_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WECHAT_APP_SECRET")
    with pytest.raises(SystemExit, match="WECHAT_APP_SECRET"):
        load_credentials(ROOT / "credentials.yml")
