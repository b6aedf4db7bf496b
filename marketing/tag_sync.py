"""Mirrors segments to WeChat user tags, so the official account's own tools see them.

For each segment: find its tag (``tags/get``) or create it (``tags/create``),
read who carries it now (``user/tag/get``, page by page), tag the members who
lack it and untag those who left the segment (``tags/members/batchtagging`` and
``batchuntagging``, 50 openids per call as WeChat allows). A failed call is
reported with its errcode and the rest goes on: one bad chunk or segment does not
stop the others. Pure: any client with WeChat's ``post(path, body)``; no Rasa.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from marketing.segments import Segment
from wechat.errors import WeChatApiError

logger = logging.getLogger(__name__)

# Openids per batch (un)tagging call: WeChat's limit (errcode 40032 above it).
TAG_BATCH = 50
TAGS_GET = "/cgi-bin/tags/get"
TAGS_CREATE = "/cgi-bin/tags/create"
TAG_MEMBERS = "/cgi-bin/user/tag/get"
BATCH_TAG = "/cgi-bin/tags/members/batchtagging"
BATCH_UNTAG = "/cgi-bin/tags/members/batchuntagging"
# Pages of user/tag/get read at most (10,000 openids a page).
MAX_PAGES = 10_000


class WeChatPoster(Protocol):
    """What tag sync needs of ``wechat.api_client.WeChatApiClient``."""

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POSTs ``body`` to ``path``; WeChat's answer, or ``WeChatApiError``."""


@dataclass
class TagSyncResult:
    """What syncing one segment did."""

    segment: str
    tag: str
    tag_id: int | None = None
    created: bool = False
    tagged: int = 0
    untagged: int = 0
    # "<call>: <errcode> <errmsg>" for each call WeChat refused.
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every call succeeded."""
        return not self.errors


async def sync_tags(
    api: WeChatPoster, segments: Iterable[tuple[Segment, Sequence[str]]]
) -> list[TagSyncResult]:
    """Makes each segment's tag carried by exactly its members.

    Args:
        api: WeChat's API (or the local stand-in).
        segments: Each segment with its members' openids.

    Returns:
        One result per segment, in order.
    """
    pairs = list(segments)
    try:
        tags = await existing_tags(api)
    except WeChatApiError as e:
        return [
            TagSyncResult(s.name, s.tag, errors=[_error(TAGS_GET, e)]) for s, _ in pairs
        ]
    return [await sync_segment(api, s, openids, tags) for s, openids in pairs]


async def existing_tags(api: WeChatPoster) -> dict[str, int]:
    """The account's tags, id by name.

    Raises:
        WeChatApiError: WeChat refused.
    """
    answer = await api.post(TAGS_GET, {})
    tags = answer.get("tags") or []
    return {str(t["name"]): int(t["id"]) for t in tags if "name" in t and "id" in t}


async def sync_segment(
    api: WeChatPoster,
    segment: Segment,
    openids: Sequence[str],
    tags: dict[str, int],
) -> TagSyncResult:
    """Syncs one segment's tag (created when missing, added to ``tags``)."""
    result = TagSyncResult(segment.name, segment.tag)
    try:
        if segment.tag in tags:
            result.tag_id = tags[segment.tag]
        else:
            answer = await api.post(TAGS_CREATE, {"tag": {"name": segment.tag}})
            result.tag_id = tags[segment.tag] = int(answer["tag"]["id"])
            result.created = True
        current = await tag_members(api, result.tag_id)
    except WeChatApiError as e:
        result.errors.append(
            _error(TAGS_CREATE if result.tag_id is None else TAG_MEMBERS, e)
        )
        return result
    wanted = set(openids)
    result.tagged = await _batches(api, BATCH_TAG, result, sorted(wanted - current))
    result.untagged = await _batches(api, BATCH_UNTAG, result, sorted(current - wanted))
    logger.info(
        "Tag %s: %d tagged, %d untagged, %d errors.",
        segment.tag,
        result.tagged,
        result.untagged,
        len(result.errors),
    )
    return result


async def tag_members(api: WeChatPoster, tag_id: int) -> set[str]:
    """The openids that carry the tag now, read page by page.

    Raises:
        WeChatApiError: WeChat refused.
    """
    found: set[str] = set()
    next_openid = ""
    for _ in range(MAX_PAGES):
        answer = await api.post(
            TAG_MEMBERS, {"tagid": tag_id, "next_openid": next_openid}
        )
        page = (answer.get("data") or {}).get("openid") or []
        found.update(str(o) for o in page)
        following = str(answer.get("next_openid") or "")
        if not page or not following or following == next_openid:
            break
        next_openid = following
    return found


async def _batches(
    api: WeChatPoster, path: str, result: TagSyncResult, openids: list[str]
) -> int:
    done = 0
    for start in range(0, len(openids), TAG_BATCH):
        chunk = openids[start : start + TAG_BATCH]
        try:
            await api.post(path, {"openid_list": chunk, "tagid": result.tag_id})
        except WeChatApiError as e:
            result.errors.append(_error(path, e))
            continue
        done += len(chunk)
    return done


def _error(path: str, error: WeChatApiError) -> str:
    return f"{path.rsplit('/', 1)[-1]}: {error.errcode} {error.errmsg}"
