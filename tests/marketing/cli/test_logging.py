"""``aurora-marketing`` logs as ``AURORA_LOG_FORMAT`` says, or says what is wrong."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog
from click.testing import CliRunner

from marketing.cli import main
from telemetry.json_logs import FORMAT_ENV


@pytest.fixture
def root_formatters() -> Iterator[None]:
    """Gives the root logger's handlers their formatters back afterwards."""
    root = logging.getLogger()
    saved = [(h, h.formatter) for h in root.handlers]
    yield
    for handler, formatter in saved:
        handler.setFormatter(formatter)
    logging.captureWarnings(False)


def test_an_unknown_log_format_is_a_one_line_error() -> None:
    result = CliRunner().invoke(main, ["segments", "--help"], env={FORMAT_ENV: "xml"})
    assert result.exit_code == 1
    assert FORMAT_ENV in result.output and "text, json" in result.output


def test_json_switches_the_process_s_log_lines(root_formatters: None) -> None:
    result = CliRunner().invoke(main, ["segments", "--help"], env={FORMAT_ENV: "json"})
    assert result.exit_code == 0
    formatters = [h.formatter for h in logging.getLogger().handlers]
    assert formatters
    assert all(isinstance(f, structlog.stdlib.ProcessorFormatter) for f in formatters)
