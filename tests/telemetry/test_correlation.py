"""Correlation ids: one per message, inherited by the turn's tasks."""

from __future__ import annotations

import asyncio
import contextvars

from privacy.masking import mask_openid
from telemetry import correlation

OPENID = "o_corr_user"


def in_fresh_context(function: object) -> object:
    return contextvars.copy_context().run(function)  # type: ignore[arg-type]


def test_a_message_has_the_same_id_on_every_try_and_replica() -> None:
    first = in_fresh_context(lambda: correlation.bind_message("msg:42", OPENID))
    retry = in_fresh_context(lambda: correlation.bind_message("msg:42", OPENID))
    other = in_fresh_context(lambda: correlation.bind_message("msg:43", OPENID))
    assert first == retry != other
    assert isinstance(first, str) and len(first) == correlation.ID_CHARS


def test_the_openid_is_kept_only_masked() -> None:
    def bind() -> tuple[str | None, str | None]:
        correlation.bind_message("msg:1", OPENID)
        return correlation.correlation_id(), correlation.masked_openid()

    bound_id, openid = contextvars.copy_context().run(bind)
    assert bound_id is not None
    assert openid == mask_openid(OPENID) and OPENID not in openid


def test_a_request_id_is_fresh_and_unbind_clears() -> None:
    def run() -> list[str | None]:
        first = correlation.bind_request()
        second = correlation.bind_request()
        seen = [first if first != second else None, correlation.masked_openid()]
        correlation.unbind()
        return [*seen, correlation.correlation_id()]

    first, openid, after = contextvars.copy_context().run(run)
    assert first is not None and openid is None and after is None


async def test_tasks_started_in_a_message_inherit_its_id() -> None:
    async def child() -> str | None:
        await asyncio.sleep(0)
        return correlation.correlation_id()

    async def handler() -> tuple[str, str | None]:
        bound = correlation.bind_message("msg:7", OPENID)
        return bound, await asyncio.ensure_future(child())

    bound, seen = await asyncio.ensure_future(handler())
    assert seen == bound
    assert correlation.correlation_id() is None  # the test's own context
