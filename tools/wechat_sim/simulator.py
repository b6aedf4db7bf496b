"""An offline WeChat server: signs, encrypts and posts messages, reads the replies.

Messages are built, signed (and in AES mode encrypted) as WeChat's server does and
posted to the channel with WeChat's retry rule.

Tests, the benchmark and the ``make wechat-sim`` console
(``tools.wechat_sim.console``) all use this module; ``tools.wechat_sim.fake_api``
stands in for WeChat's API server so the replies sent later through the
customer-service API are seen too.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from wechat.crypto import MessageCrypto
from wechat.signature import check_signature, sign
from wechat.xml_safety import parse_xml

# WeChat waits this long for an answer, then tries again; three tries in all.
WECHAT_TIMEOUT_S = 5.0
WECHAT_TRIES = 3
_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def to_xml(fields: dict[str, Any]) -> str:
    """A WeChat-style ``<xml>`` document of flat fields (numbers unquoted)."""
    parts = []
    for name, value in fields.items():
        if isinstance(value, int):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            text = str(value).replace("]]>", "]]]]><![CDATA[>")
            parts.append(f"<{name}><![CDATA[{text}]]></{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def nonce() -> str:
    """A random nonce like WeChat's (digits)."""
    # secrets, not random: a seeded ``random`` (hypothesis) must not repeat nonces,
    # which the channel's replay cache would refuse.
    return "".join(secrets.choice(string.digits) for _ in range(10))


@dataclass
class Reply:
    """The channel's answer to one try.

    Attributes:
        status: HTTP status (0 when the try timed out or failed to connect).
        body: the raw body.
        fields: the reply's fields (decrypted in AES mode); empty for ``success``.
        elapsed_s: time to answer.
        tries: how many tries it took.
    """

    status: int
    body: str
    fields: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    tries: int = 1

    @property
    def text(self) -> str | None:
        """The text of a passive text reply."""
        return self.fields.get("Content")


class WeChatSimulator:
    """Sends messages to a WeChat channel the way WeChat's server does.

    Args:
        webhook_url: the channel's ``/webhooks/wechat/webhook`` URL.
        token: the channel's token.
        app_id: the channel's AppID.
        encoding_aes_key: when given, messages go in AES safe mode.
        account: the account's gh_ id, sent as ``ToUserName``.
        timeout_s: how long one try waits (WeChat: 5 s).
    """

    def __init__(
        self,
        webhook_url: str,
        token: str,
        app_id: str,
        encoding_aes_key: str | None = None,
        account: str = "gh_aurora_sim",
        timeout_s: float = WECHAT_TIMEOUT_S,
    ) -> None:
        self.webhook_url = webhook_url
        self.token = token
        self.account = account
        self.timeout_s = timeout_s
        self.crypto = (
            MessageCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        )
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WeChatSimulator:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- messages as WeChat builds them ---------------------------------------------

    def message(self, openid: str, msg_type: str, **fields: Any) -> dict[str, Any]:
        """A message of ``msg_type`` from ``openid`` with a fresh MsgId."""
        return {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
            **fields,
            "MsgId": next(_msg_ids),
        }

    def text(self, openid: str, content: str) -> dict[str, Any]:
        """A text message."""
        return self.message(openid, "text", Content=content)

    def voice(self, openid: str, recognition: str | None) -> dict[str, Any]:
        """A voice message; ``recognition`` None when WeChat could not transcribe it."""
        extra = {"MediaId": "sim-voice", "Format": "amr"}
        if recognition is not None:
            extra["Recognition"] = recognition
        return self.message(openid, "voice", **extra)

    def event(
        self, openid: str, event: str, key: str = "", **fields: Any
    ) -> dict[str, Any]:
        """An event (``subscribe``, ``CLICK``...): no MsgId, as WeChat sends them."""
        message: dict[str, Any] = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": "event",
            "Event": event,
        }
        if key:
            message["EventKey"] = key
        message.update(fields)
        return message

    # --- the wire -------------------------------------------------------------------

    def signed(
        self, xml: str, encrypt: bool | None = None, openid: str = ""
    ) -> tuple[dict[str, str], str]:
        """The query and body WeChat would post for ``xml`` from ``openid``."""
        timestamp = str(int(time.time()))
        once = nonce()
        query = {
            "timestamp": timestamp,
            "nonce": once,
            "signature": sign(self.token, timestamp, once),
            "openid": openid,
        }
        use_aes = self.crypto is not None if encrypt is None else encrypt
        if not use_aes or self.crypto is None:
            return query, xml
        envelope = parse_xml(self.crypto.encrypt(xml, once, timestamp), 1 << 20)
        encrypted = envelope["Encrypt"]
        query.update(
            encrypt_type="aes",
            msg_signature=sign(self.token, timestamp, once, encrypted),
        )
        body = to_xml({"ToUserName": self.account, "Encrypt": encrypted})
        return query, body

    async def post_raw(
        self, query: dict[str, str], body: bytes | str, timeout_s: float | None = None
    ) -> Reply:
        """Posts one try as given; a timeout or refused connection gives status 0."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        started = time.monotonic()
        try:
            async with self._session.post(
                self.webhook_url,
                params=query,
                data=body.encode("utf-8") if isinstance(body, str) else body,
                headers={"Content-Type": "text/xml"},
                timeout=aiohttp.ClientTimeout(total=timeout_s or self.timeout_s),
            ) as response:
                text = await response.text(errors="replace")
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return Reply(status=0, body="", elapsed_s=time.monotonic() - started)
        return Reply(
            status=status,
            body=text,
            fields=self._reply_fields(status, text, query),
            elapsed_s=time.monotonic() - started,
        )

    async def post(self, fields: dict[str, Any], encrypt: bool | None = None) -> Reply:
        """Posts ``fields`` once, signed (and encrypted) like WeChat."""
        openid = str(fields.get("FromUserName", ""))
        query, body = self.signed(to_xml(fields), encrypt, openid)
        return await self.post_raw(query, body)

    async def send(self, fields: dict[str, Any], encrypt: bool | None = None) -> Reply:
        """Posts ``fields`` with WeChat's rule: a new try after each 5 s timeout."""
        started = time.monotonic()
        reply = Reply(status=0, body="")
        for attempt in range(1, WECHAT_TRIES + 1):
            reply = await self.post(fields, encrypt)
            reply.tries = attempt
            if reply.status != 0:
                break
        reply.elapsed_s = time.monotonic() - started
        return reply

    def _reply_fields(
        self, status: int, text: str, query: dict[str, str]
    ) -> dict[str, str]:
        if status != 200 or not text.lstrip().startswith("<xml"):
            return {}
        fields = parse_xml(text, 1 << 20)
        if "Encrypt" not in fields or self.crypto is None:
            return fields
        # WeChat checks our reply's signature before showing it.
        check_signature(
            fields.get("MsgSignature"),
            self.token,
            fields.get("TimeStamp", ""),
            fields.get("Nonce", ""),
            fields["Encrypt"],
        )
        plaintext = self.crypto.decrypt(
            fields["Encrypt"],
            fields.get("MsgSignature"),
            fields.get("TimeStamp", ""),
            fields.get("Nonce", ""),
        )
        return parse_xml(plaintext, 1 << 20)
