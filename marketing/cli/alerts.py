"""``aurora-marketing alerts``: the negative share per day and its spikes (舆情预警).

Prints the series of the last ``--days`` days with each day's alert line, then
the alerts. The alerts of the latest day are also logged (WARNING) and posted
to ``AURORA_ALERT_WEBHOOK_URL`` when set, so a cron job running it daily warns
once per spike; earlier alerts were warned about by earlier runs. A webhook
that is down is logged, never an error: the exit status is 0 either way.
"""

from __future__ import annotations

import click

from marketing.cli.context import CliContext, pass_cli, user_errors
from marketing.sentiment_watch import (
    AlertNotifier,
    DayAssessment,
    SpikeRule,
    negative_share_by_day,
    recent,
)

DEFAULT_DAYS = 30


def _line(day: DayAssessment) -> str:
    threshold = "–" if day.threshold is None else f"{day.threshold:6.1%}"
    flag = "  舆情预警" if day.alert else ""
    return (
        f"{day.day.isoformat()}  {day.messages:8d}  {day.negative:8d}  "
        f"{day.share:6.1%}  {threshold:>6}{flag}"
    )


@click.command()
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=DEFAULT_DAYS,
    show_default=True,
    help="How many days, today (UTC) included.",
)
@click.option(
    "--notify/--no-notify",
    default=True,
    show_default=True,
    help="Log and post (AURORA_ALERT_WEBHOOK_URL) an alert of the latest day.",
)
@pass_cli
def alerts(cli: CliContext, days: int, notify: bool) -> None:
    """Share of negative messages per day, and alerts when it spikes.

    A day alerts when its share beats the mean of the 14 days before it by 3
    standard deviations, reaches 20% and counts at least 20 messages
    (marketing/sentiment_watch.py SpikeRule).
    """
    rule = SpikeRule()
    store = cli.store()
    with user_errors("marketing store"):
        series = recent(lambda n: negative_share_by_day(store, n), days, rule)
    click.echo("day         messages  negative   share  alert line")
    for day in series:
        click.echo(_line(day))
    found = [day for day in series if day.alert]
    click.echo("")
    if not found:
        click.echo("No alert.")
    for day in found:
        click.echo(day.describe())
    latest = [day for day in found if day.day == series[-1].day]
    if notify and latest:
        delivered = AlertNotifier(cli.settings.alert_webhook_url).notify(latest)
        if cli.settings.alert_webhook_url:
            click.echo(f"Alert webhook: {delivered} of {len(latest)} delivered.")
