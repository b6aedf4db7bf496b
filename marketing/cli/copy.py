"""``aurora-marketing copy`` and ``drafts``: draft campaign copy, then review it.

``copy CAMPAIGN`` writes N sampled drafts per variant of the campaign with a
backend (the offline Qwen2.5 model, an OpenAI-compatible server or the
templates) from a brief of catalog and campaign facts, checks each one and
stores it pending. ``drafts`` lists them with their failed checks, and approves,
edits or rejects them; only approved copy is sent (``send``) or shown in chat.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Callable
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import click

from catalog.loader import load_catalog
from catalog.model import Catalog
from copywriting.brief import BriefError, CopyBrief, brief_for
from copywriting.checks import DraftChecker
from copywriting.drafting import CopyDrafter
from copywriting.factory import build_backend
from copywriting.generator import GeneratorError
from copywriting.review import edit_draft
from marketing.cli.context import CliContext, pass_cli, user_errors
from marketing.cli.send import load_campaign
from marketing.copy_drafts import (
    PENDING,
    STATUSES,
    CopyDrafts,
    DraftNotFound,
    ReviewError,
    StoredDraft,
)
from marketing.segments import Segment, load_segments
from marketing.settings import GENERATOR_BACKENDS, Settings

ALL = "all"
MAX_SAMPLES = 20
# What the store keeps of a reviewer's name (copy_drafts.reviewer).
MAX_REVIEWER = 64


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container user without a passwd entry
        return "cli"


def _short_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_REVIEWER or "\n" in name:
        raise click.BadParameter(f"one line of 1-{MAX_REVIEWER} characters")
    return name


@click.command("copy")
@click.argument("campaign_id", metavar="CAMPAIGN")
@click.option(
    "--n",
    "samples",
    default=3,
    show_default=True,
    type=click.IntRange(1, MAX_SAMPLES),
    help="Drafts to sample per variant.",
)
@click.option(
    "--backend",
    type=click.Choice(GENERATOR_BACKENDS),
    help="Who drafts (default: AURORA_GENERATOR, else template).",
)
@click.option(
    "--model",
    metavar="PATH|NAME",
    help="transformers: a model folder or .gguf file (default: the offline "
    "Qwen2.5-Coder-1.5B of `make assets-llm`); openai: the server's model name.",
)
@click.option(
    "--segment",
    "segment_name",
    metavar="NAME",
    help="Write for this segment (its tone: calm for unhappy followers).",
)
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="NAME",
    help="Only these variants (default: every variant).",
)
@pass_cli
def copy(
    cli: CliContext,
    campaign_id: str,
    samples: int,
    backend: str | None,
    model: str | None,
    segment_name: str | None,
    variants: tuple[str, ...],
) -> None:
    """Draft copy for CAMPAIGN (data/campaigns.yml) and store it for review.

    Each draft is checked (advertising law, facts against the brief, 30-120
    characters, 2048 bytes) and near-duplicates are dropped; review them with
    `aurora-marketing drafts`. A local model takes 10-40 s per draft on a CPU
    and uses the GPU when there is one.
    """
    # Rasa's TensorFlow is no use to a PyTorch model: transformers skips it.
    os.environ.setdefault("USE_TF", "0")
    settings = cli.settings
    campaign = load_campaign(settings, campaign_id)
    chosen = [v for v in campaign.variants if not variants or v.name in variants]
    if not chosen:
        known = ", ".join(v.name for v in campaign.variants)
        raise click.BadParameter(
            f"no such variant (known: {known})", param_hint="--variant"
        )
    segment = _segment(settings, segment_name)
    catalog = _catalog()
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    briefs = [brief_for(campaign, v, catalog, today, segment) for v in chosen]
    try:
        drafter = CopyDrafter(
            build_backend(settings, backend, model), DraftChecker(catalog)
        )
    except GeneratorError as e:
        raise click.ClickException(str(e)) from e
    drafts = CopyDrafts(cli.store())
    stored: list[StoredDraft] = []
    duplicates, empty, errors = 0, 0, []
    label = f"Drafting {campaign.id} with {drafter.backend.name}"
    with click.progressbar(length=samples * len(briefs), label=label) as bar:
        for brief in briefs:
            with user_errors("marketing store"):
                earlier = [
                    d.text for d in drafts.find(campaign.id, variant=brief.variant)
                ]
            batch = asyncio.run(
                drafter.draft(brief, samples, earlier, lambda: bar.update(1))
            )
            with user_errors("marketing store"):
                ids = drafts.add(batch.drafts)
                stored += [drafts.get(i) for i in ids]
            duplicates, empty = duplicates + batch.duplicates, empty + batch.empty
            errors += batch.errors
    for draft in stored:
        _echo_draft(draft)
    passing = sum(d.passes for d in stored)
    click.echo(
        f"{len(stored)} draft(s) of {campaign.id} pending review, {passing} passing "
        f"every check; {duplicates} near-duplicate(s) dropped, {empty} empty, "
        f"{len(errors)} backend error(s)."
    )
    if errors and not stored:
        raise click.ClickException(
            f"the {drafter.backend.name} backend failed: {errors[0]}"
        )
    if stored:
        click.echo("Review: aurora-marketing drafts approve|edit|reject ID")


@click.group()
def drafts() -> None:
    """Review drafted copy: list, approve, edit or reject drafts."""


@drafts.command("list")
@click.option(
    "--campaign", "campaign_id", metavar="CAMPAIGN", help="Only this campaign."
)
@click.option(
    "--status",
    type=click.Choice((*STATUSES, ALL)),
    default=PENDING,
    show_default=True,
)
@pass_cli
def list_drafts(cli: CliContext, campaign_id: str | None, status: str) -> None:
    """List drafts with their failed checks."""
    with user_errors("marketing store"):
        found = CopyDrafts(cli.store()).find(
            campaign_id, None if status == ALL else status
        )
    for draft in found:
        _echo_draft(draft)
    click.echo(f"{len(found)} draft(s).")


@drafts.command("show")
@click.argument("draft_id", type=int)
@pass_cli
def show(cli: CliContext, draft_id: int) -> None:
    """Show a draft with the brief it was written from."""
    draft = _review(lambda d: d.get(draft_id), cli)
    _echo_draft(draft)
    click.echo(
        f"  written by {draft.backend} ({draft.model}) "
        f"at {draft.created_at:%Y-%m-%d %H:%M} UTC"
    )
    try:
        brief = CopyBrief.from_json(draft.brief)
    except BriefError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"  brief: {brief.title} (tone {brief.tone})")
    for fact in brief.facts:
        click.echo(f"    - {fact}")


@drafts.command("approve")
@click.argument("draft_ids", metavar="ID...", nargs=-1, type=int, required=True)
@click.option(
    "--reviewer", default=_login, show_default="your login", callback=_short_name
)
@pass_cli
def approve(cli: CliContext, draft_ids: tuple[int, ...], reviewer: str) -> None:
    """Approve drafts that pass every check: they are sent and shown from now on.

    Each draft is approved on its own: a refused one is reported and the others
    still go through (exit status 1 if any was refused).
    """
    refused = 0
    for draft_id in draft_ids:
        step = partial(CopyDrafts.approve, draft_id=draft_id, reviewer=reviewer)
        try:
            draft = _review(step, cli)
        except click.ClickException as e:
            click.echo(f"#{draft_id} not approved: {e.format_message()}", err=True)
            refused += 1
            continue
        click.echo(f"#{draft.id} approved for {draft.campaign}/{draft.variant}.")
    if refused:
        raise click.ClickException(f"{refused} of {len(draft_ids)} not approved")


@drafts.command("edit")
@click.argument("draft_id", type=int)
@click.option("--text", required=True, help="The corrected copy (checked again).")
@click.option("--approve", "and_approve", is_flag=True, help="Approve it if it passes.")
@click.option(
    "--reviewer", default=_login, show_default="your login", callback=_short_name
)
@pass_cli
def edit(
    cli: CliContext, draft_id: int, text: str, and_approve: bool, reviewer: str
) -> None:
    """Replace a draft's copy; it is checked again and waits for approval."""
    checker = DraftChecker(_catalog())

    def change(store: CopyDrafts) -> StoredDraft:
        try:
            edited = edit_draft(store, checker, draft_id, text, reviewer)
        except BriefError as e:
            raise ReviewError(str(e)) from e
        return store.approve(draft_id, reviewer) if and_approve else edited

    _echo_draft(_review(change, cli))


@drafts.command("reject")
@click.argument("draft_ids", metavar="ID...", nargs=-1, type=int, required=True)
@click.option("--note", default="", help="Why (kept with the draft).")
@click.option(
    "--reviewer", default=_login, show_default="your login", callback=_short_name
)
@pass_cli
def reject(
    cli: CliContext, draft_ids: tuple[int, ...], note: str, reviewer: str
) -> None:
    """Reject drafts (an approved one is withdrawn: no longer sent or shown)."""
    for draft_id in draft_ids:
        step = partial(
            CopyDrafts.reject, draft_id=draft_id, reviewer=reviewer, note=note
        )
        draft = _review(step, cli)
        click.echo(f"#{draft.id} rejected.")


def _review(step: Callable[[CopyDrafts], StoredDraft], cli: CliContext) -> StoredDraft:
    with user_errors("marketing store"):
        store = CopyDrafts(cli.store())
    with user_errors("marketing store"):
        try:
            return step(store)
        except (DraftNotFound, ReviewError) as e:
            raise click.ClickException(str(e).strip("'\"")) from e


def _echo_draft(draft: StoredDraft) -> None:
    verdict = (
        "passes"
        if draft.passes
        else "fails " + ", ".join(dict.fromkeys(f.check for f in draft.failures))
    )
    edited = ", edited" if draft.edited else ""
    click.echo(
        f"#{draft.id} {draft.campaign}/{draft.variant} [{draft.status}{edited}; "
        f"{verdict}] {draft.text}"
    )
    for failure in draft.failures:
        click.echo(f"  - {failure.check}: {failure.detail}")


def _segment(settings: Settings, name: str | None) -> Segment | None:
    if name is None:
        return None
    with user_errors("segments"):
        declared = load_segments(settings.segments_path)
    if name not in declared:
        known = ", ".join(sorted(declared)) or "none"
        raise click.BadParameter(
            f"no segment {name!r} (known: {known})", param_hint="--segment"
        )
    return declared[name]


def _catalog() -> Catalog:
    with user_errors("catalog"):
        return load_catalog()
