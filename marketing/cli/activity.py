"""``aurora-marketing activity``: messages, intents, sentiment and actions per day.

The numbers of :mod:`marketing.daily_activity`, the same the admin API's
``/api/activity`` serves: per UTC day over all followers, or per follower and
day with ``--per-follower`` or ``--user`` (openids are personal data: keep that
output safe). As a table, or one JSON object per line.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import click

from marketing.cli.context import CliContext, pass_cli, user_errors
from marketing.daily_activity import DayActivity, UserDay, daily_activity, user_days


@click.command()
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=7,
    show_default=True,
    help="The last N UTC days, today included.",
)
@click.option(
    "--per-follower",
    is_flag=True,
    help="One row per follower and day (personal data: keep the output safe).",
)
@click.option("--user", "user_id", metavar="OPENID", help="Only this follower's days.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_cli
def activity(
    cli: CliContext, days: int, per_follower: bool, user_id: str | None, as_json: bool
) -> None:
    """Messages, intents, sentiment and actions per day (UTC), from the event stream."""
    store = cli.store()
    with user_errors("marketing store"):
        if per_follower or user_id:
            last = store.now().date()
            rows: list[UserDay | DayActivity] = list(
                user_days(store, last - timedelta(days=days - 1), last, user_id)
            )
        else:
            rows = list(daily_activity(store, days))
    for row in rows:
        values = {**dataclasses.asdict(row), "day": row.day.isoformat()}
        if as_json:
            click.echo(json.dumps(values, ensure_ascii=False))
            continue
        who = values.get("user_id") or f"{values['followers']} followers"
        intents = ", ".join(f"{k} {n}" for k, n in row.intents.items()) or "-"
        click.echo(
            f"{values['day']}  {who}  messages {row.messages}  events {row.events}  "
            f"sentiment +{row.positive} ={row.neutral} -{row.negative}  "
            f"actions {row.actions}  intents: {intents}"
        )
