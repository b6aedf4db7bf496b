"""``aurora-marketing leads``: consenting leads for sales, and their notification.

``leads`` exports (CSV or JSON, streamed) the leads whose customer agreed to be
called back, best score first; numbers are masked unless ``--reveal-phones``
and the data key (``AURORA_DATA_KEY`` or ``--key-file``) are given.
``leads notify`` posts the leads owed to the sales webhook now, instead of
waiting for the action server's background notifier.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import IO

import click

from marketing.cli.context import CliContext, pass_cli, user_errors
from marketing.lead_export import LeadExportError, LeadQuery, columns, export_leads
from marketing.lead_notifications import LeadNotifications
from marketing.sales_webhook import SalesNotifier
from privacy.cipher import CipherError, DataCipher


@click.group(invoke_without_command=True)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Only leads scoring at least this (0..1).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="CSV with a header row, or a JSON array of objects.",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Only leads created on or after this date (UTC), e.g. 2026-11-01.",
)
@click.option(
    "--reveal-phones",
    is_flag=True,
    help="Export the numbers in clear (column phone). Needs the data key: "
    "AURORA_DATA_KEY or --key-file. Without it: column phone_masked.",
)
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the data key, for --reveal-phones.",
)
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="Where to write (default: standard output).",
)
@pass_cli
@click.pass_context
def leads(
    ctx: click.Context,
    cli: CliContext,
    min_score: float,
    fmt: str,
    since: datetime | None,
    reveal_phones: bool,
    key_file: Path | None,
    output: IO[str],
) -> None:
    """Exports consenting leads, highest score first, then newest.

    Only leads whose customer agreed to be called back are exported; the
    columns are ref, name, phone_masked (or phone), marketing_consent, score,
    campaign and created_at. Run `leads notify` to post due leads to sales.
    """
    if ctx.invoked_subcommand is not None:
        return
    cipher = _reveal_cipher(cli, key_file) if reveal_phones else None
    query = LeadQuery(min_score=min_score, since=since)
    with user_errors("leads"):
        rows = export_leads(cli.store(), query, cipher)
        try:
            first = next(rows, None)  # a wrong key fails before any output
            rest: Iterable[dict[str, object]] = (
                rows if first is None else chain([first], rows)
            )
            if fmt == "csv":
                _write_csv(output, columns(cipher is not None), rest)
            else:
                _write_json(output, rest)
        except LeadExportError as e:
            raise click.ClickException(str(e)) from e


def _reveal_cipher(cli: CliContext, key_file: Path | None) -> DataCipher:
    """The cipher of the key the operator passed explicitly."""
    if key_file is not None:
        key = key_file.read_text(encoding="utf-8").strip()
    elif cli.settings.data_key:
        key = cli.settings.data_key
    else:
        raise click.UsageError(
            "--reveal-phones needs the data key: set AURORA_DATA_KEY or pass --key-file"
        )
    try:
        return DataCipher(key)
    except CipherError as e:
        raise click.ClickException(f"data key: {e}") from e


def _write_csv(
    output: IO[str], names: tuple[str, ...], rows: Iterable[dict[str, object]]
) -> None:
    writer = csv.DictWriter(output, fieldnames=list(names), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})


def _write_json(output: IO[str], rows: Iterable[dict[str, object]]) -> None:
    # One object per line inside the array: valid JSON, written as it streams.
    output.write("[")
    for text in _joined(json.dumps(r, ensure_ascii=False) for r in rows):
        output.write(text)
    output.write("]\n")


def _joined(items: Iterator[str]) -> Iterator[str]:
    first = True
    for item in items:
        yield ("\n" if first else ",\n") + item
        first = False
    if not first:
        yield "\n"


@leads.command()
@pass_cli
def notify(cli: CliContext) -> None:
    """Posts the leads owed to the sales webhook now, and prints the outcome.

    A lead is owed when it scores at least sales_webhook_min_score and
    AURORA_SALES_WEBHOOK_URL is set. Failed posts are retried later with a
    growing delay (and given up after several tries); the action server does
    the same in the background.
    """
    settings = cli.settings
    if not settings.sales_webhook_url:
        raise click.ClickException(
            "sales webhook: AURORA_SALES_WEBHOOK_URL is not set; no lead is notified"
        )
    store = cli.store()
    with user_errors("sales webhook"):
        report = SalesNotifier.from_settings(settings, lambda: store).run_once()
        counts = LeadNotifications(store).counts()
    click.echo(
        f"sent {report.sent}, retry later {report.retried}, failed {report.failed}"
    )
    waiting = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    click.echo(f"notifications: {waiting or 'none'}")


# A cell starting with one of these is a formula to Excel and LibreOffice: a
# name typed by a customer must stay text (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A CSV cell: empty for None, customer text never read as a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
