"""The channel's own texts come from domain.yml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from wechat.errors import ConfigError
from wechat.texts import RESPONSES, ChannelTexts

ROOT = Path(__file__).resolve().parents[2]


def test_the_project_domain_has_every_channel_text() -> None:
    texts = ChannelTexts.from_domain_file(ROOT / "domain.yml")
    assert "打字" in texts.ask_to_type
    assert texts.rate_limited and texts.apology
    domain = yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))
    assert set(RESPONSES.values()) <= set(domain["responses"])


def test_a_missing_response_is_a_config_error(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text(
        "responses:\n  utter_wechat_ask_to_type:\n    - text: 请打字\n", "utf-8"
    )
    with pytest.raises(ConfigError, match="utter_wechat_rate_limited"):
        ChannelTexts.from_domain_file(domain)
    with pytest.raises(ConfigError, match="cannot read"):
        ChannelTexts.from_domain_file(tmp_path / "absent.yml")
