"""The dashboard's HTML, rendered on the server with Jinja2 (autoescaped).

:class:`DashboardView` is everything one page shows; :class:`DashboardPages`
renders it, the login form and the "store unavailable" page from
``servers/templates/``. Every number is in a table cell or element with a stable
``id`` or ``data-*`` attribute (``data-value`` holds the raw number), so scripts
and the browser test read the figures without parsing the charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from marketing.lead_funnel import FunnelStep
from marketing.report import CampaignReport
from marketing.sentiment_watch import DayAssessment, SpikeRule
from servers import dashboard_charts

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class DashboardView:
    """What one dashboard page shows."""

    reports: list[CampaignReport]
    segments: dict[str, int]
    funnel: list[FunnelStep]
    sentiment: list[DayAssessment]
    rule: SpikeRule
    generated_at: datetime


def percent(value: float | None, digits: int = 1) -> str:
    """``0.1234`` as ``12.3%``; ``–`` for None."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def money(value: Decimal) -> str:
    """An amount with thousands separators and cents."""
    return f"{value:,.2f}"


class DashboardPages:
    """Renders the admin server's pages.

    Args:
        templates: The folder of the Jinja2 templates.
    """

    def __init__(self, templates: Path = TEMPLATES) -> None:
        self._env = Environment(
            loader=FileSystemLoader(str(templates)),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["percent"] = percent
        self._env.filters["money"] = money

    def dashboard(self, view: DashboardView) -> str:
        """The dashboard page, charts included (CPU work: call it off the loop)."""
        charts = {
            "segments": dashboard_charts.segment_sizes(view.segments),
            "funnel": dashboard_charts.funnel(view.funnel),
            "sentiment": dashboard_charts.negative_share(view.sentiment),
        }
        campaign_charts = {
            report.campaign: {
                "over_time": dashboard_charts.campaign_over_time(report)
                if report.daily
                else None,
                "variants": dashboard_charts.campaign_variants(report)
                if report.variants
                else None,
            }
            for report in view.reports
        }
        return self._env.get_template("dashboard.html").render(
            view=view,
            charts=charts,
            campaign_charts=campaign_charts,
            alerts=[day for day in view.sentiment if day.alert],
        )

    def login(self, error: str | None = None) -> str:
        """The login form, with why the last try failed."""
        return self._env.get_template("login.html").render(error=error)

    def unavailable(self) -> str:
        """The page shown while the marketing store cannot be read."""
        return self._env.get_template("unavailable.html").render()
