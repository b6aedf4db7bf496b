"""``make wechat-sim``: chat with the bot as a WeChat user would, offline.

Posts what you type to the running bot's WeChat webhook, signed (and encrypted when
the credentials have an EncodingAESKey) like WeChat, and prints the passive reply.
It also stands in for WeChat's API server on 127.0.0.1 (``api_base_url`` of the
sample credentials), so replies the bot sends later through the customer-service
API are printed too. Type ``/help`` for voice messages, events and menu clicks.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rasa.shared.exceptions import RasaException
from rasa.shared.utils.io import read_config_file

from tools.wechat_sim.fake_api import Delivery, FakeWeChatApi
from tools.wechat_sim.simulator import Reply, WeChatSimulator

CHANNEL_KEYS = ("channels.wechat.WeChatInput", "wechat")
# The user you play: shaped like the test openids, so the logs mask it too.
DEFAULT_OPENID = "o_sim_user"
HELP = """\
Type a message to send it as text. Commands:
  /voice 文字          voice message WeChat transcribed (/voice alone: not transcribed)
  /subscribe [场景]    follow the account (from a QR code with that scene)
  /unsubscribe         unfollow (the bot records the opt-out and stays quiet)
  /click KEY           custom-menu click, e.g. /click MENU_PROMOTION
  /scan 场景           scan a QR code while following
  /view URL            open a menu link
  /location 纬度 经度 地址   share a location, e.g. /location 31.2 121.4 上海市徐汇区
  /image               send a picture
  /link 标题 URL       share a link
  /retry               send the last message again (same MsgId): no second turn
  /user OPENID         talk as another user
  /quit                leave"""


class Console:
    """Turns console lines into WeChat messages and replies into printable lines.

    Args:
        simulator: sends messages to the channel.
        openid: the user you play.
    """

    def __init__(
        self, simulator: WeChatSimulator, openid: str = DEFAULT_OPENID
    ) -> None:
        self.simulator = simulator
        self.openid = openid
        self._last: dict[str, Any] | None = None

    def message_for(self, line: str) -> dict[str, Any] | str | None:
        """The message a line sends, a text to print (help, errors) or None to quit."""
        sim, user = self.simulator, self.openid
        if not line.startswith("/") or line.startswith("/ "):
            return sim.text(user, line)
        try:
            command, *args = shlex.split(line)
        except ValueError:
            return sim.text(user, line)
        rest = " ".join(args)
        builders: dict[str, Any] = {
            "/voice": lambda: sim.voice(user, rest or None),
            "/subscribe": lambda: sim.event(
                user, "subscribe", f"qrscene_{rest}" if rest else ""
            ),
            "/unsubscribe": lambda: sim.event(user, "unsubscribe"),
            "/click": lambda: sim.event(user, "CLICK", rest),
            "/scan": lambda: sim.event(user, "SCAN", rest),
            "/view": lambda: sim.event(user, "VIEW", rest),
            "/image": lambda: sim.message(
                user, "image", PicUrl="https://sim.invalid/p.jpg", MediaId="sim"
            ),
            "/link": lambda: sim.message(
                user,
                "link",
                Title=args[0] if args else "",
                Description="",
                Url=args[1] if len(args) > 1 else "",
            ),
        }
        if command in ("/quit", "/exit"):
            return None
        if command == "/help":
            return HELP
        if command == "/user" and args:
            self.openid = args[0]
            return f"(now talking as {self.openid})"
        if command == "/retry":
            return self._last or "(nothing to send again)"
        if command == "/location" and len(args) >= 2:
            return sim.message(
                user,
                "location",
                Location_X=args[0],
                Location_Y=args[1],
                Scale="15",
                Label=" ".join(args[2:]),
            )
        builder = builders.get(command)
        # Anything else starting with "/" is text, so "/greet" reaches Rasa as is.
        return builder() if builder else sim.text(user, line)

    async def send(self, message: dict[str, Any]) -> list[str]:
        """Sends ``message`` like WeChat and returns the lines to print."""
        self._last = message
        return describe(await self.simulator.send(message))


def describe(reply: Reply) -> list[str]:
    """Printable lines for a passive reply."""
    took = f"{reply.elapsed_s:.2f} s"
    if reply.status == 0:
        return [f"(no answer after {reply.tries} tries: WeChat gives up)"]
    if reply.status != 200:
        return [f"(HTTP {reply.status}: {reply.body})"]
    if not reply.fields:
        return [f"(success after {took}: replies, if any, come through the API)"]
    kind = reply.fields.get("MsgType", "")
    if kind == "text":
        return [f"小极: {reply.fields.get('Content', '')}", f"(passive reply, {took})"]
    if kind == "news":
        titles = [v for k, v in reply.fields.items() if k.endswith("Title")]
        return [f"小极: [图文] {' | '.join(titles) or '…'}", f"(passive reply, {took})"]
    return [f"小极: [{kind}]", f"(passive reply, {took})"]


def print_delivery(delivery: Delivery) -> None:
    """Prints a message the bot sent through the customer-service API."""
    print(f"\n小极 (客服消息): {delivery.text}\n> ", end="", flush=True)


def load_credentials(path: Path) -> dict[str, Any]:
    """The WeChat section of a credentials file, ``${NAME}`` replaced as Rasa does.

    Raises:
        SystemExit: the file names an unset variable (``make wechat-sim`` sets the
            samples of ``dev.env``) or has no WeChat channel.
    """
    try:
        data = read_config_file(path)
    except RasaException as e:
        raise SystemExit(f"{path}: {e}") from None
    for key in CHANNEL_KEYS:
        if isinstance(data.get(key), dict):
            return dict(data[key])
    raise SystemExit(f"{path} has no WeChat channel ({' or '.join(CHANNEL_KEYS)})")


async def run(args: argparse.Namespace) -> int:
    """Runs the console until /quit or end of input."""
    credentials = load_credentials(Path(args.credentials))
    api = FakeWeChatApi(
        str(credentials["app_id"]), str(credentials["app_secret"]), print_delivery
    )
    await api.start(args.api_port)
    simulator = WeChatSimulator(
        args.url,
        str(credentials["token"]),
        str(credentials["app_id"]),
        encoding_aes_key=None if args.plain else credentials.get("encoding_aes_key"),
        account=str(credentials.get("account") or "gh_aurora_sim"),
    )
    console = Console(simulator, args.openid)
    mode = "plain" if simulator.crypto is None else "AES safe mode"
    print(f"WeChat simulator → {args.url} ({mode}); API stand-in on {api.base_url}")
    print("Type /help for commands, /quit to leave.")
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                line = await loop.run_in_executor(None, input, "> ")
            except EOFError:
                break
            if not line.strip():
                continue
            outcome = console.message_for(line.strip())
            if outcome is None:
                break
            lines = (
                [outcome] if isinstance(outcome, str) else await console.send(outcome)
            )
            print("\n".join(lines))
        # Give late customer-service messages a moment before leaving.
        await asyncio.sleep(0.5)
    finally:
        await simulator.close()
        await api.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point (``python -m tools.wechat_sim.console``)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument(
        "--url", default="http://127.0.0.1:5005/webhooks/wechat/webhook"
    )
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--api-port", type=int, default=5099)
    parser.add_argument("--openid", default=DEFAULT_OPENID)
    parser.add_argument("--plain", action="store_true", help="send unencrypted")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
