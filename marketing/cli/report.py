"""``aurora-marketing report``: conversion, revenue, ROI and A/B verdicts.

One table per campaign (one row per variant and a total), or every row as JSON
or CSV for a spreadsheet. The numbers are :func:`marketing.report.campaign_reports`'s,
the same the admin API and the dashboard show.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import click

from marketing.campaigns import load_campaigns
from marketing.cli.context import CliContext, pass_cli, user_errors
from marketing.experiments import Interval
from marketing.report import (
    CampaignReport,
    VariantResult,
    campaign_reports,
    report_as_dict,
)

FORMATS = ("table", "json", "csv")
CSV_COLUMNS = (
    "campaign", "variant", "sent", "impressions", "clicks", "ctr", "ctr_low",
    "ctr_high", "conversions", "recipients", "conversion_rate", "conversion_low",
    "conversion_high", "revenue", "revenue_per_recipient", "cost", "currency",
    "roi", "winner", "verdict",
)  # fmt: skip
TABLE_COLUMNS = (
    "variant", "sent", "impressions", "clicks", "CTR [95% CI]", "conversions",
    "conversion [95% CI]", "revenue", "cost", "ROI",
)  # fmt: skip


@click.command("report")
@click.argument("campaigns", nargs=-1, metavar="[CAMPAIGN]...")
@click.option(
    "--format",
    "output",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="A table per campaign, or every row as JSON or CSV.",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Count from this day (UTC, YYYY-MM-DD); default: everything logged.",
)
@pass_cli
def report(
    cli: CliContext,
    campaigns: tuple[str, ...],
    output: str,
    since: datetime | None,
) -> None:
    """Sends, impressions, clicks, conversion, revenue, cost and ROI per variant.

    Reports each CAMPAIGN given, else every campaign declared in the campaigns
    file (AURORA_CAMPAIGNS_PATH) and every other one with impressions in the
    store (recommendations, copy variants; zero cost). Orders count for the last
    tracked click within AURORA_ATTRIBUTION_WINDOW_HOURS before them. Rates come
    with Wilson 95% intervals; variants are tested against the first declared
    (two-proportion z-test), and the verdict says "no winner yet" while the test
    lacks the recipients to tell.
    """
    settings = cli.settings
    with user_errors("campaigns"):
        declared = load_campaigns(settings.campaigns_path)
    store = cli.store()
    with user_errors("report"):
        reports = campaign_reports(
            store,
            declared,
            now=store.now(),
            window=timedelta(hours=settings.attribution_window_hours),
            since=since,
            only=set(campaigns) or None,
            currency=settings.currency,
        )
    missing = sorted(set(campaigns) - {r.campaign for r in reports})
    if missing:
        raise click.ClickException(
            f"no campaign {', '.join(missing)}: neither declared in "
            f"{settings.campaigns_path} nor seen in the store"
        )
    if output == "json":
        click.echo(json.dumps([report_as_dict(r) for r in reports], indent=2,
                              ensure_ascii=False))  # fmt: skip
    elif output == "csv":
        click.echo(as_csv(reports), nl=False)
    elif not reports:
        click.echo("No campaign declared and nothing logged yet.")
    else:
        click.echo("\n\n".join(as_table(r) for r in reports))


def as_table(report: CampaignReport) -> str:
    """One campaign as an aligned text table, with its A/B verdict below."""
    rows: list[tuple[str, ...]] = [TABLE_COLUMNS]
    rows += [_table_row(r) for r in (*report.variants, report.total)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    title = report.campaign
    if report.title != report.campaign:
        title += f" ({report.title})"
    lines.insert(0, title)
    if report.comparison is not None:
        c = report.comparison
        lines.append(f"A/B on {c.metric}, control {c.control}: {c.verdict}")
    return "\n".join(lines)


def _table_row(r: VariantResult) -> tuple[str, ...]:
    return (
        "total" if r.variant == "*" else r.variant,
        str(r.sent),
        str(r.impressions),
        str(r.clicks),
        f"{r.ctr:.1%} {_interval(r.ctr_interval)}",
        str(r.conversions),
        f"{r.conversion_rate:.1%} {_interval(r.conversion_interval)}",
        f"{r.revenue} {r.currency}",
        f"{r.cost}",
        "-" if r.roi is None else f"{r.roi:+.0%}",
    )


def _interval(interval: Interval) -> str:
    return f"[{interval.low:.1%}, {interval.high:.1%}]"


def as_csv(reports: Sequence[CampaignReport]) -> str:
    """Every variant and total row, one line each, with the campaign's verdict."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        comparison = report.comparison
        winner = (comparison.winner or "") if comparison else ""
        verdict = comparison.verdict if comparison else ""
        for r in (*report.variants, report.total):
            writer.writerow(
                (r.campaign, r.variant, r.sent, r.impressions, r.clicks,
                 _num(r.ctr), _num(r.ctr_interval.low), _num(r.ctr_interval.high),
                 r.conversions, r.recipients, _num(r.conversion_rate),
                 _num(r.conversion_interval.low), _num(r.conversion_interval.high),
                 r.revenue, _num(r.revenue_per_recipient), r.cost, r.currency,
                 "" if r.roi is None else _num(r.roi), winner, verdict)
            )  # fmt: skip
    return buffer.getvalue()


def _num(value: float) -> str:
    return f"{value:.6g}"
