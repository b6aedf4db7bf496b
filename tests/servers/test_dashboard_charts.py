"""The dashboard's charts: drawn quickly and small, whatever the days."""

from __future__ import annotations

import base64
from dataclasses import replace

from servers import dashboard_charts
from tests.servers.dashboard_data import SPIKE_DAY, campaign_reports

# A chart of the dashboard is a few dozen KB; a runaway axis makes megabytes.
MAX_CHART_BYTES = 200_000


def chart_bytes(uri: str) -> int:
    return len(base64.b64decode(uri.split(",", 1)[1]))


def test_a_campaigns_first_day_alone_is_a_small_chart() -> None:
    [report] = campaign_reports()
    first_day = replace(report, daily=[p for p in report.daily if p.day == SPIKE_DAY])
    assert {p.day for p in first_day.daily} == {SPIKE_DAY}
    assert chart_bytes(dashboard_charts.campaign_over_time(first_day)) < MAX_CHART_BYTES
    assert chart_bytes(dashboard_charts.campaign_over_time(report)) < MAX_CHART_BYTES
