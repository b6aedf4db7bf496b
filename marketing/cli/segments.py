"""``aurora-marketing segments``: how many followers each segment holds, and who.

Profiles are built from the store (:func:`marketing.profiles.build_profiles`),
segments read from ``data/segments.yml`` (``AURORA_SEGMENTS_PATH``). Members are
openids, personal data: printed only with ``--members``. ``--sync-tags`` mirrors
each segment to a WeChat user tag through the API of ``WECHAT_APP_ID``,
``WECHAT_APP_SECRET`` and ``WECHAT_API_BASE_URL`` (as ``credentials.yml``).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click

from marketing.cli.context import CliContext, pass_cli, user_errors
from marketing.cli.wechat_api import wechat_api
from marketing.profiles import Profile, build_profiles
from marketing.segments import Segment, SegmentError, load_segments, members
from marketing.store import utc_now
from marketing.tag_sync import TagSyncResult, sync_tags


@click.command("segments")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people, JSON for scripts.",
)
@click.option(
    "--members",
    "show_members",
    is_flag=True,
    help="Also print each segment's openids (personal data: keep the output safe).",
)
@click.option(
    "--sync-tags",
    is_flag=True,
    help="Mirror each segment to its WeChat user tag (create it, tag who joined, "
    "untag who left) with WECHAT_APP_ID / WECHAT_APP_SECRET / WECHAT_API_BASE_URL.",
)
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    help="The segments file (default: AURORA_SEGMENTS_PATH, else data/segments.yml).",
)
@pass_cli
def segments(
    cli: CliContext,
    names: tuple[str, ...],
    output: str,
    show_members: bool,
    sync_tags: bool,
    path: str | None,
) -> None:
    """Print the size of each segment (or of the NAMEd ones).

    Segments are the rules designers declare in data/segments.yml; opted-out and
    unsubscribed followers are never counted. Exit status 1 when a tag could not
    be synced completely.
    """
    chosen = _chosen(path or cli.settings.segments_path, names)
    now = utc_now()
    with user_errors("profiles"):
        profiles = build_profiles(cli.store(), now)
    found = {s.name: members(profiles, s, now) for s in chosen}
    results = _sync(chosen, found) if sync_tags else []
    if output == "json":
        click.echo(_json(chosen, found, results, show_members))
    else:
        _table(chosen, found, results, show_members, (len(profiles), now))
    if any(not r.ok for r in results):
        raise click.ClickException("some tags were not synced completely (see above)")


def _chosen(path: str, names: Sequence[str]) -> list[Segment]:
    try:
        declared = load_segments(path)
    except SegmentError as e:
        raise click.ClickException(str(e)) from e
    if unknown := [n for n in names if n not in declared]:
        raise click.ClickException(
            f"unknown segment {', '.join(unknown)}; {path} declares "
            f"{', '.join(declared)}"
        )
    return [declared[n] for n in names] if names else list(declared.values())


def _sync(
    chosen: Sequence[Segment], found: Mapping[str, list[Profile]]
) -> list[TagSyncResult]:
    async def run() -> list[TagSyncResult]:
        # The bot's token store (WECHAT_STORE): a token fetched on the side
        # would replace the one the bot is using.
        async with wechat_api(os.environ) as client:
            pairs = [(s, [p.user_id for p in found[s.name]]) for s in chosen]
            return await sync_tags(client, pairs)

    return asyncio.run(run())


def _json(
    chosen: Sequence[Segment],
    found: Mapping[str, list[Profile]],
    results: Sequence[TagSyncResult],
    show_members: bool,
) -> str:
    synced = {r.segment: r for r in results}
    rows: list[dict[str, Any]] = []
    for segment in chosen:
        row: dict[str, Any] = {
            "name": segment.name,
            "size": len(found[segment.name]),
            "tag": segment.tag,
            "description": segment.description,
        }
        if show_members:
            row["members"] = [p.user_id for p in found[segment.name]]
        if (result := synced.get(segment.name)) is not None:
            row["sync"] = {
                "tag_id": result.tag_id,
                "created": result.created,
                "tagged": result.tagged,
                "untagged": result.untagged,
                "errors": result.errors,
            }
        rows.append(row)
    return json.dumps({"segments": rows}, ensure_ascii=False, indent=2)


def _table(
    chosen: Sequence[Segment],
    found: Mapping[str, list[Profile]],
    results: Sequence[TagSyncResult],
    show_members: bool,
    profiled: tuple[int, datetime],
) -> None:
    synced = {r.segment: r for r in results}
    width = max([len(s.name) for s in chosen] + [7])
    click.echo(f"{'segment':<{width}}  {'size':>7}  description")
    for segment in chosen:
        size = len(found[segment.name])
        click.echo(f"{segment.name:<{width}}  {size:>7}  {segment.description}")
        if (result := synced.get(segment.name)) is not None:
            status = "ok" if result.ok else "; ".join(result.errors)
            click.echo(
                f"{'':<{width}}  tag {result.tag} (id {result.tag_id}): "
                f"+{result.tagged} -{result.untagged}, {status}"
            )
        if show_members:
            for profile in found[segment.name]:
                click.echo(f"{'':<{width}}  {profile.user_id}")
    followers, now = profiled
    click.echo(f"{followers} followers profiled at {now:%Y-%m-%d %H:%M} UTC")
