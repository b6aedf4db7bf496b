"""Campaigns marketers push to segments, as declared in ``data/campaigns.yml``.

A campaign has one message or several weighted variants (an A/B test), an
optional template message for followers outside WeChat's 48-hour window who
consented to promotions, a landing page whose link is tracked, and what it cost.
Each follower gets one variant, drawn at random but stable: the same campaign
and openid always give the same variant (:meth:`Campaign.variant_for`), on
every machine and every re-run. Pure: YAML in, dataclasses out; no Rasa.

.. code-block:: yaml

    campaigns:
      - id: double12-reminder
        title: 双12预约提醒
        promotes: camp-double12-lottery   # a catalog campaign (optional)
        url: https://shop.example/double12  # the landing page, tracked
        item_id: camp-double12-lottery   # what impressions name (default: id)
        cost: 300                         # what it cost, in `currency`
        currency: CNY
        variants:
          - name: A
            weight: 1
            message: {type: text, text: "双12预约抽奖开始啦 {link}"}
          - name: B
            weight: 1
            message: {type: news, title: 双12, description: 抽 X5 Pro, picurl: "..."}
        template:                         # outside the 48 h window, consent only
          template_id: TM00001
          data: {first: 双12预约抽奖开始啦, remark: 点击查看}
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

TEXT, NEWS = "text", "news"
MESSAGE_TYPES = (TEXT, NEWS)
# The variant of a campaign that declares a single message.
DEFAULT_VARIANT = "default"
# Where a message puts the tracked link.
LINK_PLACEHOLDER = "{link}"
_MAX_ID = 64
_MAX_VARIANT = 32


class CampaignError(ValueError):
    """The campaigns file is unreadable or declares something unusable."""


@dataclass(frozen=True)
class Message:
    """A customer-service message: a text, or one news article.

    ``text`` may hold ``{link}``, replaced by the tracked link; a news article
    links to it.
    """

    type: str
    text: str = ""
    title: str = ""
    description: str = ""
    picurl: str = ""


@dataclass(frozen=True)
class Variant:
    """One arm of a campaign: its name, share of followers and message."""

    name: str
    weight: float
    message: Message


@dataclass(frozen=True)
class Template:
    """A template message (模板消息) for followers outside the 48-hour window.

    ``data`` maps the template's keywords to their values; the message links to
    the tracked landing page.
    """

    template_id: str
    data: Mapping[str, str]


@dataclass(frozen=True)
class Campaign:
    """One campaign as declared."""

    id: str
    title: str
    url: str
    variants: tuple[Variant, ...]
    item_id: str = ""
    promotes: str | None = None
    template: Template | None = None
    cost: Decimal = Decimal(0)
    currency: str = "CNY"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_experiment(self) -> bool:
        """Whether followers are split between several variants."""
        return len(self.variants) > 1

    @property
    def item(self) -> str:
        """What the campaign's impressions name as their item."""
        return self.item_id or self.id

    def variant_for(self, openid: str) -> Variant:
        """The follower's variant: random across followers, the same every time.

        The SHA-256 of ``campaign id:openid`` read as a number in [0, 1) picks the
        variant whose cumulative share covers it.
        """
        digest = hashlib.sha256(f"{self.id}:{openid}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64
        total = sum(v.weight for v in self.variants)
        reached = 0.0
        for variant in self.variants:
            reached += variant.weight / total
            if point < reached:
                return variant
        return self.variants[-1]  # rounding at the very top

    def variant(self, name: str) -> Variant:
        """The variant called ``name``.

        Raises:
            KeyError: The campaign has no such variant.
        """
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(f"campaign {self.id!r} has no variant {name!r}")


def load_campaigns(path: str | Path) -> dict[str, Campaign]:
    """The campaigns of ``path``, by id.

    Raises:
        CampaignError: The file cannot be read or declares something unusable;
            the message names the campaign and the key.
    """
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise CampaignError(f"cannot read campaigns from {path}: {e}") from e
    entries = document.get("campaigns") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise CampaignError(f"{path}: expected a `campaigns:` list")
    campaigns: dict[str, Campaign] = {}
    for position, entry in enumerate(entries):
        campaign = parse_campaign(entry, where=f"{path}: campaign {position + 1}")
        if campaign.id in campaigns:
            raise CampaignError(f"{path}: campaign {campaign.id!r} is declared twice")
        campaigns[campaign.id] = campaign
    return campaigns


def parse_campaign(entry: object, where: str = "campaign") -> Campaign:
    """One campaign from its YAML mapping.

    Raises:
        CampaignError: Something in it is missing or unusable.
    """
    if not isinstance(entry, dict):
        raise CampaignError(f"{where}: expected a mapping")
    campaign_id = _name(entry.get("id"), f"{where}: id", _MAX_ID)
    where = f"{where} ({campaign_id})"
    url = entry.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise CampaignError(f"{where}: url must be an http(s) landing page")
    if "variants" in entry:
        raw = entry["variants"]
        if not isinstance(raw, list) or not raw:
            raise CampaignError(f"{where}: variants must be a non-empty list")
        variants = tuple(_variant(v, where) for v in raw)
    elif "message" in entry:
        message = _message(entry["message"], where)
        variants = (Variant(DEFAULT_VARIANT, 1.0, message),)
    else:
        raise CampaignError(f"{where}: declare a message or variants")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise CampaignError(f"{where}: variant names repeat: {names}")
    currency = str(entry.get("currency", "CNY"))
    if len(currency) != 3 or not currency.isalpha():
        raise CampaignError(f"{where}: currency {currency!r} is no ISO 4217 code")
    known = {
        "id",
        "title",
        "url",
        "variants",
        "message",
        "item_id",
        "promotes",
        "template",
        "cost",
        "currency",
        "metadata",
    }
    unknown = sorted(set(entry) - known)
    if unknown:
        raise CampaignError(f"{where}: unknown keys {unknown}; known {sorted(known)}")
    return Campaign(
        id=campaign_id,
        title=str(entry.get("title") or campaign_id),
        url=url,
        variants=variants,
        item_id=str(entry.get("item_id") or ""),
        promotes=_optional_str(entry.get("promotes")),
        template=_template(entry.get("template"), where),
        cost=_money(entry.get("cost", 0), f"{where}: cost"),
        currency=currency.upper(),
        metadata=dict(entry.get("metadata") or {}),
    )


def _name(value: object, where: str, longest: int) -> str:
    if not isinstance(value, str | int) or not str(value).strip():
        raise CampaignError(f"{where} is missing")
    text = str(value).strip()
    if len(text) > longest or not all(c.isalnum() or c in "-_." for c in text):
        raise CampaignError(
            f"{where} {text!r}: at most {longest} letters, digits, '-', '_' or '.'"
        )
    return text


def _variant(entry: object, where: str) -> Variant:
    if not isinstance(entry, dict):
        raise CampaignError(f"{where}: each variant is a mapping")
    name = _name(entry.get("name"), f"{where}: variant name", _MAX_VARIANT)
    try:
        weight = float(entry.get("weight", 1))
    except (TypeError, ValueError) as e:
        raise CampaignError(f"{where}: variant {name}: weight is no number") from e
    if weight <= 0:
        raise CampaignError(f"{where}: variant {name}: weight must be positive")
    return Variant(name, weight, _message(entry.get("message"), f"{where}: {name}"))


def _message(entry: object, where: str) -> Message:
    if not isinstance(entry, dict):
        raise CampaignError(f"{where}: message must be a mapping")
    kind = entry.get("type", TEXT)
    if kind not in MESSAGE_TYPES:
        raise CampaignError(f"{where}: message type {kind!r}; use {MESSAGE_TYPES}")
    fields = {k: str(entry.get(k) or "") for k in ("text", "title", "description")}
    message = Message(type=kind, picurl=str(entry.get("picurl") or ""), **fields)
    if kind == TEXT and not message.text.strip():
        raise CampaignError(f"{where}: a text message needs text")
    if kind == NEWS and not message.title.strip():
        raise CampaignError(f"{where}: a news message needs a title")
    return message


def _template(entry: object, where: str) -> Template | None:
    if entry is None:
        return None
    if not isinstance(entry, dict) or not entry.get("template_id"):
        raise CampaignError(f"{where}: template needs a template_id")
    data = entry.get("data") or {}
    if not isinstance(data, dict):
        raise CampaignError(f"{where}: template data must be a mapping")
    return Template(
        template_id=str(entry["template_id"]),
        data={str(k): str(v) for k, v in data.items()},
    )


def _money(value: object, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as e:
        raise CampaignError(f"{where}: {value!r} is no amount") from e
    if not amount.is_finite() or amount < 0:
        raise CampaignError(f"{where}: {value!r} must be zero or more")
    return amount


def _optional_str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def variant_names(campaigns: Sequence[Campaign]) -> dict[str, list[str]]:
    """Variant names per campaign id, in declaration order."""
    return {c.id: [v.name for v in c.variants] for c in campaigns}
