"""The ``make wechat-sim`` console in a session against the served channel."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.channels.conftest import ServeFactory, StubAgent
from tests.wechat.fakes import APP_ID, APP_SECRET, TOKEN
from tools.wechat_sim.console import run


async def test_a_session_against_the_channel(
    serve: ServeFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served = await serve(aes=True, agent=StubAgent(delay_s=0.0))
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        "channels.wechat.WeChatInput:\n"
        f"  token: {TOKEN}\n  app_id: {APP_ID}\n  app_secret: {APP_SECRET}\n"
        f"  encoding_aes_key: {served.channel.settings.encoding_aes_key}\n",
        encoding="utf-8",
    )
    lines = iter(["你好", "/retry", "/voice", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    args = argparse.Namespace(
        url=served.webhook,
        credentials=str(credentials),
        api_port=0,
        openid="o_console",
        plain=False,
    )
    assert await run(args) == 0
    out = capsys.readouterr().out
    assert "AES safe mode" in out
    assert out.count("小极: 收到：你好") == 2  # the retry gets the same answer
    assert "打字" in out
    assert served.agent.texts() == ["你好"]
