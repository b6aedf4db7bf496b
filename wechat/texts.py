"""What the channel says by itself, read from ``domain.yml`` like every reply.

A few answers come from the channel without a dialogue turn: asking to type when
a voice message has no transcript, slowing down a flood of messages, an apology
when a turn produced nothing (the action server is down), and word that an agent
will answer when a transfer to one came too late to answer passively. Their text is
customer-facing, so it lives in ``domain.yml`` (``utter_wechat_*``) and is read
here once, at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wechat.errors import ConfigError

# The domain response of each text.
RESPONSES = {
    "ask_to_type": "utter_wechat_ask_to_type",
    "rate_limited": "utter_wechat_rate_limited",
    "apology": "utter_wechat_apology",
    "handoff_late": "utter_wechat_handoff_late",
}


@dataclass(frozen=True)
class ChannelTexts:
    """The texts the channel answers with by itself.

    Attributes:
        ask_to_type: a voice message WeChat could not transcribe.
        rate_limited: the first message over the per-user rate limit.
        apology: a turn that produced no reply, or none in time.
        handoff_late: a transfer to a human agent decided after the passive
            answer's deadline (an agent will answer).
    """

    ask_to_type: str
    rate_limited: str
    apology: str
    handoff_late: str

    @classmethod
    def from_responses(cls, responses: Mapping[str, Any]) -> ChannelTexts:
        """Takes the first text of each ``utter_wechat_*`` response.

        Raises:
            ConfigError: a response is missing or has no text.
        """
        texts: dict[str, str] = {}
        for field, name in RESPONSES.items():
            variants = responses.get(name)
            text = None
            if isinstance(variants, list) and variants:
                first = variants[0]
                text = first.get("text") if isinstance(first, Mapping) else None
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(f"domain.yml: response {name} with a text is missing")
            texts[field] = text
        return cls(**texts)

    @classmethod
    def from_domain_file(cls, path: str | Path) -> ChannelTexts:
        """Reads the texts from a domain file.

        Raises:
            ConfigError: the file cannot be read or lacks a response.
        """
        try:
            document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read the domain {path}: {e}") from e
        responses = document.get("responses") if isinstance(document, dict) else None
        return cls.from_responses(responses if isinstance(responses, Mapping) else {})
