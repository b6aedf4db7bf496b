"""``aurora-marketing schedule`` and ``scheduler``: scheduled campaign sends.

``send … --at TIME`` adds a run; ``schedule`` lists (or cancels) them;
``scheduler`` sends them when due: started next to the bot by ``make run``, or
``scheduler --once`` from cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import click

from marketing.campaign_runs import CampaignRuns, Run
from marketing.cli.context import CliContext, pass_cli, user_errors
from marketing.cli.send import load_campaign, make_sender, recipients_of
from marketing.cli.wechat_api import wechat_api
from marketing.scheduler import DEFAULT_POLL_S, Scheduler
from marketing.send_summary import SendSummary


@click.command()
@click.option("--cancel", "cancel_id", type=int, metavar="ID", help="Cancel run ID.")
@pass_cli
def schedule(cli: CliContext, cancel_id: int | None) -> None:
    """List the scheduled campaign sends (times in UTC), or cancel one."""
    store = cli.store()
    runs = CampaignRuns(store)
    with user_errors("marketing store"):
        if cancel_id is not None:
            if not runs.cancel(cancel_id):
                raise click.ClickException(
                    f"run #{cancel_id} is not waiting to run (unknown, running or over)"
                )
            click.echo(f"Cancelled run #{cancel_id}.")
            return
        found = runs.all()
    if not found:
        click.echo(
            "No scheduled sends. Add one with `send CAMPAIGN --segment NAME --at TIME`."
        )
        return
    for run in found:
        detail = f"  {run.detail}" if run.detail else ""
        click.echo(
            f"#{run.id}\t{run.run_at:%Y-%m-%d %H:%M}\t{run.status}\t"
            f"{run.campaign} -> {run.segment}{detail}"
        )


@click.command()
@click.option("--once", is_flag=True, help="Send the runs due now, then exit (cron).")
@click.option(
    "--poll-s",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_POLL_S,
    show_default=True,
    help="Seconds between looks for due runs.",
)
@pass_cli
def scheduler(cli: CliContext, once: bool, poll_s: float) -> None:
    """Send scheduled campaign runs when they are due (runs until stopped).

    Several schedulers may run at once (replicas, cron): each run is claimed by
    one. SIGTERM or Ctrl-C stops after the messages in flight; the run resumes
    on the next start.
    """
    store = cli.store()
    settings = cli.settings

    async def main() -> list[Run]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        async with wechat_api(os.environ) as api:

            async def run_send(run: Run, stop: asyncio.Event) -> SendSummary:
                campaign = await asyncio.to_thread(
                    load_campaign, settings, run.campaign, store, run.segment
                )
                now = store.now()
                recipients = await asyncio.to_thread(
                    recipients_of, store, settings, run.segment, now
                )
                sender = make_sender(store, settings, api)
                prepared = await asyncio.to_thread(
                    sender.prepare, campaign, recipients, now
                )
                return await sender.execute(prepared, stop=stop)

            runner = Scheduler(CampaignRuns(store), run_send, store.now, poll_s)
            if once:
                return await runner.run_once(stop)
            await runner.run_forever(stop)
            return []

    for run in asyncio.run(main()):
        click.echo(f"#{run.id} {run.status}: {run.detail or ''}")
