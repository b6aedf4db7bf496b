"""``aurora-marketing``: segments, campaign sends, reports and leads from a shell.

Installed into ``.venv`` by ``make setup`` (``[project.scripts]`` of
``pyproject.toml``); ``aurora-marketing --help`` lists the subcommands, and every
subcommand has its own ``--help``. Settings come from ``endpoints.yml``'s
``marketing:`` section and ``AURORA_*`` variables (:mod:`marketing.settings`);
``--database-url`` overrides the store for one invocation.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import click

from marketing.cli.context import CliContext, user_errors
from marketing.settings import load_settings
from privacy import masking
from telemetry import json_logs


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    metavar="URL",
    help="The marketing store (default: AURORA_DATABASE_URL, else .runtime/ SQLite).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (INFO).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, verbose: bool) -> None:
    """Marketing automation for the WeChat official account."""
    masking.install()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with user_errors("settings"):
        json_logs.configure()
        settings = load_settings()
    if database_url:
        settings = replace(settings, database_url=database_url)
    cli = CliContext(settings)
    ctx.obj = cli
    ctx.call_on_close(cli.close)


# Subcommands, one module each (imported last: they import this package's context).
from marketing.cli.activity import activity  # noqa: E402
from marketing.cli.alerts import alerts  # noqa: E402
from marketing.cli.copy import copy, drafts  # noqa: E402
from marketing.cli.dashboard import dashboard  # noqa: E402
from marketing.cli.events import consume_events  # noqa: E402
from marketing.cli.leads import leads  # noqa: E402
from marketing.cli.report import report  # noqa: E402
from marketing.cli.schedule import schedule, scheduler  # noqa: E402
from marketing.cli.segments import segments  # noqa: E402
from marketing.cli.send import send  # noqa: E402

for command in (
    segments,
    send,
    copy,
    drafts,
    schedule,
    scheduler,
    report,
    leads,
    alerts,
    dashboard,
    consume_events,
    activity,
):
    main.add_command(command)
