"""The WeChat pushes of ``peer_pushes/``, copied from other projects.

43 messages and events taken verbatim from the test suites of wechatpy, WeRoBot,
WeiXinMPSDK, WxJava, wechat-python-sdk and osgl java-tool; ``index.json`` names
each one's source and what the webhook must do with it (``expect``):

- ``reply``: 200 with a passive reply that has content;
- ``ok``: 200 (a reply or ``success``);
- ``safe``: 200 or 4xx, never a 5xx.

``peer_pushes/`` is a byte-for-byte copy of the project's shared
``../shared/peer_fixtures/`` (its README names the sources and licences), kept in
the repository so the replay runs wherever it is cloned. Should it be missing,
the tests that need it fail under ``CI=true`` and are skipped on a laptop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from tests.services import service_unavailable
from wechat.errors import RequestRejected
from wechat.xml_safety import parse_xml

ROOT = Path(__file__).resolve().parents[2]
PEER_FIXTURES = Path(__file__).resolve().parent / "peer_pushes"
INDEX = PEER_FIXTURES / "index.json"
EXPECTATIONS = ("reply", "ok", "safe")
# What the index promises; fewer means a truncated copy of the folder.
COUNT = 43
# Large enough for every fixture; the channel's own limit is tested elsewhere.
PARSE_LIMIT = 1 << 20


@dataclass(frozen=True)
class PeerFixture:
    """One push of the index.

    Attributes:
        name: its name in ``index.json``.
        file: the XML file, relative to the folder.
        expect: ``reply``, ``ok`` or ``safe``.
        note: what is odd about it.
    """

    name: str
    file: str
    expect: str
    note: str = ""

    @property
    def body(self) -> bytes:
        """The push exactly as the other project's test suite has it."""
        return (PEER_FIXTURES / self.file).read_bytes()

    @cached_property
    def fields(self) -> dict[str, str]:
        """The push parsed as the channel parses it; empty when it is not XML."""
        try:
            return parse_xml(self.body, PARSE_LIMIT)
        except RequestRejected:
            return {}

    @property
    def said(self) -> str:
        """What the user said: the text, or the voice message's transcription."""
        said = self.fields.get("Content") or self.fields.get("Recognition", "")
        return said.strip()


def load_index() -> list[PeerFixture]:
    """The fixtures of ``index.json``; an empty list when the folder is absent."""
    if not INDEX.is_file():
        return []
    document = json.loads(INDEX.read_text(encoding="utf-8"))
    return [
        PeerFixture(
            name=entry["name"],
            file=entry["file"],
            expect=entry["expect"],
            note=entry.get("note", ""),
        )
        for entry in document["fixtures"]
    ]


FIXTURES = {fixture.name: fixture for fixture in load_index()}
# Parametrize with a placeholder when the folder is absent, so that the missing
# folder is reported (fail under CI, skip elsewhere) instead of nothing running.
MISSING = "peer_fixtures_missing"
NAMES = sorted(FIXTURES) or [MISSING]


def peer_fixture(name: str) -> PeerFixture:
    """The fixture ``name``; reports a missing folder (fail under CI, else skip)."""
    if name not in FIXTURES:
        service_unavailable(
            f"no WeChat peer fixtures at {INDEX}: copy ../shared/peer_fixtures there"
        )
    return FIXTURES[name]
