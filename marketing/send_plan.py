"""Who gets a campaign through which channel, and the API bodies to send.

WeChat's rules, per follower, as of ``now``:

- opted out of promotions, or no longer subscribed: nothing, ever;
- wrote within the last 48 hours (WeChat's customer-service window): a
  customer-service message, the variant's text (``{link}`` replaced by the
  tracked link) or one news article linking to it;
- otherwise a template message (linking to the tracked link), only where the
  campaign declares one and the follower consented to promotions;
- otherwise nothing.

Pure: profiles and campaigns in, plans and JSON bodies out. No Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marketing.campaigns import LINK_PLACEHOLDER, NEWS, Campaign, Message, Template
from marketing.profiles import Profile

CUSTOMER_SERVICE, TEMPLATE = "customer_service", "template"
CHANNELS = (CUSTOMER_SERVICE, TEMPLATE)
CUSTOM_SEND_PATH = "/cgi-bin/message/custom/send"
TEMPLATE_SEND_PATH = "/cgi-bin/message/template/send"
# WeChat accepts customer-service messages this long after the follower's last
# message or event.
WINDOW = timedelta(hours=48)

OPTED_OUT = "opted out"
UNSUBSCRIBED = "unsubscribed"
NO_TEMPLATE = "outside the 48-hour window, and the campaign has no template"
NO_CONSENT = "outside the 48-hour window, and no consent to promotions"


@dataclass(frozen=True)
class Planned:
    """What one follower gets: a variant through a channel, or why nothing."""

    user_id: str
    variant: str
    # CUSTOMER_SERVICE or TEMPLATE; None: skipped for ``reason``.
    channel: str | None
    reason: str = ""


def in_window(profile: Profile, now: datetime) -> bool:
    """Whether WeChat still accepts customer-service messages to the follower."""
    last = profile.last_active_at
    return last is not None and now - last <= WINDOW


def template_allowed(campaign: Campaign, profile: Profile) -> bool:
    """Whether the follower may get the campaign's template message."""
    return campaign.template is not None and profile.marketing_consent


def plan_recipient(campaign: Campaign, profile: Profile, now: datetime) -> Planned:
    """The channel (or the reason for none) of one follower, as of ``now``."""
    variant = campaign.variant_for(profile.user_id).name
    if profile.opted_out:
        return Planned(profile.user_id, variant, None, OPTED_OUT)
    if not profile.subscribed:
        return Planned(profile.user_id, variant, None, UNSUBSCRIBED)
    if in_window(profile, now):
        return Planned(profile.user_id, variant, CUSTOMER_SERVICE)
    if campaign.template is None:
        return Planned(profile.user_id, variant, None, NO_TEMPLATE)
    if not profile.marketing_consent:
        return Planned(profile.user_id, variant, None, NO_CONSENT)
    return Planned(profile.user_id, variant, TEMPLATE)


def custom_message(openid: str, message: Message, link: str) -> dict[str, Any]:
    """The body of ``message/custom/send`` for one follower."""
    if message.type == NEWS:
        article = {
            "title": message.title,
            "description": message.description,
            "url": link,
            "picurl": message.picurl,
        }
        return {"touser": openid, "msgtype": "news", "news": {"articles": [article]}}
    text = message.text.replace(LINK_PLACEHOLDER, link)
    return {"touser": openid, "msgtype": "text", "text": {"content": text}}


def template_message(openid: str, template: Template, link: str) -> dict[str, Any]:
    """The body of ``message/template/send`` for one follower."""
    return {
        "touser": openid,
        "template_id": template.template_id,
        "url": link,
        "data": {key: {"value": value} for key, value in template.data.items()},
    }
