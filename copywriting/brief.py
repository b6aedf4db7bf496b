"""The brief a campaign's copy is drafted from: facts from the catalog and campaign.

A model writes only from what the brief says, and the fact check
(:mod:`copywriting.checks`) holds every draft to it: a price, discount, date or
product that is not in the brief fails the draft. So the brief carries the
facts a marketer would give a copywriter: the product with its price and
original price, the offer and its dates, the campaign's reward and period, and
the angle of the variant (its hand-written message). The tone follows the
segment the copy is for (:func:`tone_for_segment`). Catalog text with wording
the Advertising Law forbids ("最高立减 800 元") goes into the brief as the filter
rewrites it ("立减可达 800 元"), so the model has nothing absolute to copy.

A brief is stored with each draft (:meth:`CopyBrief.to_json`), so an edited draft
is checked against the brief it was written from, even after the catalog
changed. Plain Python, no Rasa.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any, Protocol

from catalog.model import Campaign as CatalogCampaign
from catalog.model import Catalog, Product
from copywriting.compliance import remove_banned_claims
from copywriting.request import DEFAULT_TONE, TONES, CopyRequest
from marketing.campaigns import LINK_PLACEHOLDER, NEWS, Campaign, Variant
from marketing.segment_rules import Rules
from marketing.segments import Segment

PRODUCT, CAMPAIGN, PROMOTION = "product", "campaign", "promotion"
# What a hand-written message carries that is not copy: the link and opt-out.
_MESSAGE_CHROME = re.compile(rf"👉|{re.escape(LINK_PLACEHOLDER)}|回复\s*TD\s*退订")
_SPACES = re.compile(r"\s{2,}")
# Features of a product a brief lists (the model needs an angle, not a spec).
MAX_FEATURES = 3


class BriefError(ValueError):
    """A brief's stored form cannot be read."""


@dataclass(frozen=True)
class CopyBrief:
    """What one campaign variant's copy is about.

    Attributes:
        campaign: The campaign id (``data/campaigns.yml``).
        variant: The variant the copy is for.
        subject: The catalog id the copy promotes (a product, catalog campaign or
            promotion), or the campaign id: chat shows approved copy for it.
        kind: ``product``, ``campaign`` or ``promotion``.
        title: The headline subject (product name or campaign title).
        facts: Every true statement the copy may use.
        tone: ``热情``, ``亲切`` or ``温和``.
        segment: The segment the copy is written for, if one was named.
    """

    campaign: str
    variant: str
    subject: str
    kind: str
    title: str
    facts: tuple[str, ...]
    tone: str = DEFAULT_TONE
    segment: str | None = None

    @property
    def text(self) -> str:
        """Everything the brief states, one line each (what facts are checked on)."""
        return "\n".join((self.title, *self.facts))

    def request(self) -> CopyRequest:
        """The generator request for this brief."""
        return CopyRequest(
            self.kind, self.subject, self.title, self.facts, self.tone, self.campaign
        )

    def to_json(self) -> str:
        """The stored form (kept with each draft)."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CopyBrief:
        """Reads :meth:`to_json`'s form.

        Raises:
            BriefError: ``text`` is no stored brief.
        """
        try:
            data: dict[str, Any] = json.loads(text)
            data["facts"] = tuple(str(f) for f in data["facts"])
            return cls(**data)
        except (ValueError, TypeError, KeyError) as e:
            raise BriefError(f"unreadable brief: {e}") from e


def tone_for_segment(segment: Segment | None) -> str:
    """The tone for a segment: calm for unhappy followers, warm for keen ones.

    A segment asking for negative sentiment gets ``温和`` (no hard sell); one of
    followers who signed up, scored as leads or were happy gets ``热情``;
    everyone else ``亲切``.
    """
    if segment is None:
        return DEFAULT_TONE
    rules = (segment.rules, *segment.alternatives)
    if any(r.sentiments and "negative" in r.sentiments for r in rules):
        return TONES["negative"]
    if any(_keen(r) for r in rules):
        return TONES["positive"]
    return DEFAULT_TONE


def _keen(rules: Rules) -> bool:
    positive = bool(rules.sentiments) and rules.sentiments == frozenset({"positive"})
    return positive or bool(rules.campaigns) or rules.lead_score_min is not None


def brief_for(
    campaign: Campaign,
    variant: Variant,
    catalog: Catalog,
    today: date,
    segment: Segment | None = None,
) -> CopyBrief:
    """The brief for one variant of ``campaign``, with facts as of ``today``.

    The subject is the campaign's ``item_id`` when it names a product, else the
    catalog campaign or promotion it ``promotes``; the variant's own message
    gives the angle.
    """
    subject = campaign.item_id if catalog.product(campaign.item_id) else None
    subject = subject or campaign.promotes or campaign.id
    about = subject_brief(subject, catalog, today)
    if about.kind == CAMPAIGN:
        about = replace(about, title=campaign.title)  # the push's own headline
    angle = _message_text(variant)
    facts = (*about.facts, f"本条要点：{angle}") if angle else about.facts
    return replace(
        about,
        campaign=campaign.id,
        variant=variant.name,
        facts=tuple(remove_banned_claims(f) for f in facts),
        tone=tone_for_segment(segment),
        segment=segment.name if segment else None,
    )


def subject_brief(
    subject: str, catalog: Catalog, today: date, tone: str = DEFAULT_TONE
) -> CopyBrief:
    """What the catalog says today of a product, catalog campaign or promotion.

    The facts of a campaign's brief without its angle, and what chat holds
    approved copy against before showing it (:mod:`copywriting.chat_copy`): copy
    promising what is no longer so (an ended offer, a changed price, "今晚开奖"
    of one push) is not shown. A subject the catalog does not know has no facts.
    """
    product = catalog.product(subject)
    promoted = catalog.campaign(subject)
    promotion = catalog.promotion(subject)
    if product is not None:
        kind, title, facts = (
            PRODUCT,
            product.name,
            _product_facts(product, catalog, today),
        )
    elif promoted is not None:
        kind, title, facts = CAMPAIGN, promoted.title, _campaign_facts(promoted)
    elif promotion is not None:
        kind, title = PROMOTION, promotion.title
        facts = [promotion.description, f"活动时间：{_period(promotion)}"]
    else:
        kind, title, facts = CAMPAIGN, subject, []
    return CopyBrief(
        campaign="",
        variant="",
        subject=subject,
        kind=kind,
        title=title,
        facts=tuple(remove_banned_claims(f) for f in facts),
        tone=tone,
    )


def _product_facts(product: Product, catalog: Catalog, today: date) -> list[str]:
    price = f"价格：{_amount(product.price)} 元"
    if product.original_price and product.original_price > product.price:
        price += f"（原价 {_amount(product.original_price)} 元）"
    facts = [product.description, price]
    if product.features:
        facts.append("卖点：" + "、".join(product.features[:MAX_FEATURES]))
    for offer in catalog.promotions_for(product, today):
        facts.append(f"优惠：{offer.title}，{offer.description}（{_period(offer)}）")
    return facts


def _campaign_facts(campaign: CatalogCampaign) -> list[str]:
    return [
        campaign.description,
        f"奖励：{campaign.reward}",
        f"活动时间：{_period(campaign)}",
    ]


class _Dated(Protocol):
    @property
    def start(self) -> date: ...

    @property
    def end(self) -> date: ...


def _period(entry: _Dated) -> str:
    start, end = entry.start, entry.end
    return f"{start.month}月{start.day}日至{end.month}月{end.day}日"


def _amount(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _message_text(variant: Variant) -> str:
    message = variant.message
    text = (
        f"{message.title}：{message.description}"
        if message.type == NEWS
        else message.text
    )
    return _SPACES.sub(" ", _MESSAGE_CHROME.sub(" ", text)).strip(" ：")
