"""A scrape: the text format, the optional token, the multiprocess mode."""

from __future__ import annotations

from pathlib import Path

from telemetry.exposition import (
    MULTIPROCESS_ENV,
    TOKEN_ENV,
    authorised,
    metrics_token,
    render,
)


def test_render_gives_the_aurora_metrics_in_text_format() -> None:
    text = render({}).decode("utf-8")
    assert "# TYPE aurora_stage_seconds histogram" in text
    assert 'aurora_replies_total{kind="passive"}' in text
    assert "# TYPE aurora_store_degraded gauge" in text


def test_render_with_a_multiprocess_directory_reads_the_workers_files(
    tmp_path: Path,
) -> None:
    # No worker wrote anything yet: an empty but valid scrape.
    assert render({MULTIPROCESS_ENV: str(tmp_path)}) == b""


def test_no_token_lets_everyone_scrape() -> None:
    assert metrics_token({}) is None
    assert metrics_token({TOKEN_ENV: ""}) is None
    assert authorised(None, None)


def test_a_token_needs_the_bearer_header() -> None:
    token = metrics_token({TOKEN_ENV: "s3cret"})
    assert token == "s3cret"
    assert authorised("Bearer s3cret", token)
    assert authorised("bearer s3cret", token)
    assert not authorised(None, token)
    assert not authorised("Bearer guess", token)
    assert not authorised("Basic s3cret", token)
    assert not authorised("Bearer ", token)
