"""``aurora-marketing send``: push a campaign to a segment, now or later.

Recipients come from a segment (``--segment``, :mod:`marketing.segments`) or a
list of openids (``--to``); the send itself is :mod:`marketing.sending`: at most
once per follower and campaign, resumable after a crash, at the configured API
rate, with a progress bar and a summary by outcome and channel.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import click

from catalog.loader import load_catalog
from copywriting.review import current_copy
from marketing.approved_copy import Accept, approved_copy, with_approved_copy
from marketing.campaign_runs import CampaignRuns
from marketing.campaigns import Campaign, load_campaigns
from marketing.cli.context import CliContext, pass_cli, user_errors
from marketing.cli.wechat_api import wechat_api
from marketing.copy_drafts import CopyDrafts
from marketing.profiles import Profile, build_profiles
from marketing.segments import load_segments, members
from marketing.send_summary import SendSummary, summary_lines
from marketing.sending import CampaignSender
from marketing.settings import Settings
from marketing.store import MarketingStore

# A time this far in the past is a typo, not "now".
_PAST_TOLERANCE = timedelta(minutes=1)


def load_campaign(
    settings: Settings,
    campaign_id: str,
    store: MarketingStore | None = None,
    segment: str | None = None,
) -> Campaign:
    """The campaign ``campaign_id`` of ``settings.campaigns_path``.

    With ``store``, each variant carries the copy a marketer approved for it and
    ``segment`` (:mod:`marketing.approved_copy`) that still matches today's
    catalog; without such copy, a variant sends the message the file declares.

    Raises:
        click.ClickException: The file is unusable, has no such campaign, or the
            store cannot be read.
    """
    with user_errors("campaigns"):
        campaigns = load_campaigns(settings.campaigns_path)
    if campaign_id not in campaigns:
        known = ", ".join(sorted(campaigns)) or "none"
        raise click.ClickException(
            f"no campaign {campaign_id!r} in {settings.campaigns_path} (known: {known})"
        )
    if store is None:
        return campaigns[campaign_id]
    accept = copy_check(settings)
    with user_errors("marketing store"):
        return with_approved_copy(
            campaigns[campaign_id], CopyDrafts(store), segment, accept
        )


def copy_check(settings: Settings) -> Accept:
    """Accepts approved copy that is still true as of today (in the settings' zone).

    Raises:
        click.ClickException: The catalog cannot be read.
    """
    with user_errors("catalog"):
        catalog = load_catalog()
    return current_copy(catalog, datetime.now(ZoneInfo(settings.timezone)).date())


def recipients_of(
    store: MarketingStore, settings: Settings, segment_name: str, now: datetime
) -> list[Profile]:
    """The profiles of the followers in the segment ``segment_name`` as of ``now``.

    Raises:
        click.ClickException: The segments file is unusable or has no such segment.
    """
    with user_errors("segments"):
        declared = load_segments(settings.segments_path)
    segment = declared.get(segment_name)
    if segment is None:
        known = ", ".join(sorted(declared)) or "none"
        raise click.ClickException(
            f"no segment {segment_name!r} in {settings.segments_path} (known: {known})"
        )
    with user_errors("segments"):
        return members(build_profiles(store, now), segment, now)


def profiles_of(
    store: MarketingStore, openids: Sequence[str], now: datetime
) -> list[Profile]:
    """Profiles of the given followers; one we never heard of gets a blank one."""
    with user_errors("profiles"):
        by_id = build_profiles(store, now, user_ids=openids)
    return [by_id.get(openid) or Profile(user_id=openid) for openid in openids]


def parse_time(text: str, zone: str) -> datetime:
    """An ISO time, with an offset (``Z`` too) or in ``zone``, as naive UTC.

    Raises:
        click.BadParameter: Not an ISO time.
    """
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise click.BadParameter(
            f"{text!r} is no ISO time (2026-12-12T19:00 or 2026-12-12T19:00+08:00)"
        ) from e
    if value.tzinfo is None:
        # A time without an offset is the account's (AURORA_TIMEZONE), not the
        # server's: containers run in UTC, marketers in China.
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def make_sender(store: MarketingStore, settings: Settings, api: Any) -> CampaignSender:
    """The sender at the configured rate, with the configured tracked links."""
    return CampaignSender(
        store,
        api,
        rate_per_s=settings.send_rate_per_s,
        tracking_base_url=settings.tracking_base_url,
    )


@click.command()
@click.argument("campaign_id", metavar="CAMPAIGN")
@click.option("--segment", "segment_name", metavar="NAME", help="Send to a segment.")
@click.option(
    "--to",
    "openids",
    multiple=True,
    metavar="OPENID",
    help="Send to this follower (repeatable; with or without --segment).",
)
@click.option(
    "--dry-run", is_flag=True, help="Print who would get what; send and write nothing."
)
@click.option(
    "--at",
    "at",
    metavar="TIME",
    help="Schedule the send for TIME instead of now: ISO, with an offset or in "
    "AURORA_TIMEZONE (Asia/Shanghai), e.g. 2026-12-12T19:00.",
)
@click.option(
    "--retry-uncertain",
    is_flag=True,
    help="Also send to followers an earlier, crashed send may have reached.",
)
@pass_cli
def send(
    cli: CliContext,
    campaign_id: str,
    segment_name: str | None,
    openids: tuple[str, ...],
    dry_run: bool,
    at: str | None,
    retry_uncertain: bool,
) -> None:
    """Push CAMPAIGN (data/campaigns.yml) to a segment or to given followers.

    Followers who wrote within 48 hours get a customer-service message; others
    the campaign's template message, only with their consent to promotions;
    opted-out followers nothing. Each follower gets a campaign at most once: run
    it again after a crash or a 45009 (daily quota) and it resumes. A follower
    whose send was cut off mid-call is reported "uncertain" and not sent again
    unless --retry-uncertain is given.
    """
    settings = cli.settings
    campaign = load_campaign(settings, campaign_id)
    if not segment_name and not openids:
        raise click.UsageError("name the recipients: --segment NAME and/or --to OPENID")
    if at is not None:
        _schedule(cli, campaign, segment_name, openids, dry_run, at)
        return
    store = cli.store()
    campaign = load_campaign(settings, campaign_id, store, segment_name)
    now = store.now()
    recipients = list(profiles_of(store, openids, now)) if openids else []
    if segment_name:
        recipients = recipients_of(store, settings, segment_name, now) + recipients
    if dry_run:
        _preview(store, settings, campaign, recipients, now, segment_name)
        return
    summary = asyncio.run(
        _send_now(store, settings, campaign, recipients, now, retry_uncertain)
    )
    for line in summary_lines(summary):
        click.echo(line)


def _schedule(
    cli: CliContext,
    campaign: Campaign,
    segment_name: str | None,
    openids: Sequence[str],
    dry_run: bool,
    at: str,
) -> None:
    if dry_run or openids or not segment_name:
        raise click.UsageError("--at schedules a --segment (without --to or --dry-run)")
    run_at = parse_time(at, cli.settings.timezone)
    store = cli.store()
    if run_at < store.now() - _PAST_TOLERANCE:
        raise click.BadParameter(f"{at} is in the past", param_hint="--at")
    with user_errors("marketing store"):
        run_id = CampaignRuns(store).add(campaign.id, segment_name, run_at)
    click.echo(
        f"Scheduled run #{run_id}: {campaign.id} to segment {segment_name} at "
        f"{run_at:%Y-%m-%d %H:%M} UTC. The scheduler (make run, or "
        "`aurora-marketing scheduler --once` from cron) sends it."
    )


def _preview(
    store: MarketingStore,
    settings: Settings,
    campaign: Campaign,
    recipients: Sequence[Profile],
    now: datetime,
    segment: str | None,
) -> None:
    sender = make_sender(store, settings, api=None)
    with user_errors("marketing store"):
        lines = sender.preview(campaign, recipients, now)
        declared = load_campaign(settings, campaign.id)
        accept = copy_check(settings)
        drafts = CopyDrafts(store)
        for variant in declared.variants:
            draft = approved_copy(declared, variant, drafts, segment, accept)
            source = f"approved copy #{draft.id}" if draft else "campaigns.yml"
            click.echo(f"# variant {variant.name}: {source}")
    tally: Counter[str] = Counter()
    for line in lines:
        what = line.channel or "-"
        why = f": {line.reason}" if line.reason else ""
        click.echo(f"{line.user_id}\t{line.variant}\t{what}\t{line.action}{why}")
        tally[f"{line.action} {line.channel}" if line.channel else line.action] += 1
    counts = ", ".join(f"{k} {n}" for k, n in sorted(tally.items()))
    click.echo(f"Dry run of {campaign.id}, nothing sent: {counts or 'no recipients'}")


async def _send_now(
    store: MarketingStore,
    settings: Settings,
    campaign: Campaign,
    recipients: Sequence[Profile],
    now: datetime,
    retry_uncertain: bool,
) -> SendSummary:
    async with wechat_api(os.environ) as api:
        sender = make_sender(store, settings, api)
        with user_errors("marketing store"):
            prepared = await asyncio.to_thread(
                sender.prepare, campaign, recipients, now, retry_uncertain
            )
            with click.progressbar(
                length=len(prepared.rows), label=f"Sending {campaign.id}"
            ) as bar:
                return await sender.execute(prepared, progress=bar.update)
