"""The dashboard's HTML, rendered on the server with Jinja2 (autoescaped).

:class:`DashboardView` is everything one page shows, :class:`CopyReviewView`
everything the copy review (文案审核) shows; :class:`DashboardPages` renders
them, the login form and the "store unavailable" page from
``servers/templates/``. Every number is in a table cell or element with a
stable ``id`` or ``data-*`` attribute (``data-value`` holds the raw number), so
scripts and the browser test read the figures without parsing the charts. Draft
text comes from a model: like every value it is escaped, never trusted as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from copywriting.checks import AD_LAW, FACTS, LENGTH, SIZE
from marketing.copy_drafts import APPROVED, PENDING, REJECTED, CheckFailure, StoredDraft
from marketing.lead_funnel import FunnelStep
from marketing.report import CampaignReport
from marketing.sentiment_watch import DayAssessment, SpikeRule
from servers import dashboard_charts

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATUS_LABELS = {PENDING: "待审核", APPROVED: "已批准", REJECTED: "已驳回"}
CHECK_LABELS = {AD_LAW: "广告法", FACTS: "事实核查", LENGTH: "长度", SIZE: "消息大小"}
# The longest edited copy and rejection note a form or the API takes.
MAX_TEXT_CHARS, MAX_NOTE_CHARS = 1000, 500
# How the ad-law check's detail ends: the filter's rewrite (copywriting.checks).
SUGGESTED = "; suggested: "


@dataclass(frozen=True)
class DashboardView:
    """What one dashboard page shows."""

    reports: list[CampaignReport]
    segments: dict[str, int]
    funnel: list[FunnelStep]
    sentiment: list[DayAssessment]
    rule: SpikeRule
    generated_at: datetime
    copy_review: bool = False


@dataclass(frozen=True)
class CopyReviewView:
    """What the copy review page shows.

    Attributes:
        drafts: The drafts shown, pending first.
        counts: Drafts per status, filters aside.
        campaigns: Every campaign with drafts (the filter's choices).
        campaign: The campaign filter, if any.
        status: The status filter, if any.
        csrf: The CSRF token the forms carry (empty without a session).
        notice: What the last step did.
        error: Why the last step was refused.
    """

    drafts: list[StoredDraft]
    counts: dict[str, int]
    campaigns: list[str]
    campaign: str | None
    status: str | None
    csrf: str
    notice: str | None = None
    error: str | None = None


def percent(value: float | None, digits: int = 1) -> str:
    """``0.1234`` as ``12.3%``; ``–`` for None."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def money(value: Decimal) -> str:
    """An amount with thousands separators and cents."""
    return f"{value:,.2f}"


def suggestion(failure: CheckFailure) -> str | None:
    """The rewrite an ad-law failure suggests, if it is one."""
    if failure.check != AD_LAW or SUGGESTED not in failure.detail:
        return None
    return failure.detail.split(SUGGESTED, 1)[1]


def problem(failure: CheckFailure) -> str:
    """A failure's detail without the rewrite (shown on its own)."""
    return failure.detail.split(SUGGESTED, 1)[0]


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
        self._env.filters["suggestion"] = suggestion
        self._env.filters["problem"] = problem
        self._env.globals["STATUS_LABELS"] = STATUS_LABELS
        self._env.globals["CHECK_LABELS"] = CHECK_LABELS
        self._env.globals["MAX_TEXT_CHARS"] = MAX_TEXT_CHARS
        self._env.globals["MAX_NOTE_CHARS"] = MAX_NOTE_CHARS

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

    def copy_review(self, view: CopyReviewView) -> str:
        """The copy review page."""
        return self._env.get_template("copy_review.html").render(view=view)

    def login(self, error: str | None = None) -> str:
        """The login form, with why the last try failed."""
        return self._env.get_template("login.html").render(error=error)

    def unavailable(self) -> str:
        """The page shown while the marketing store cannot be read."""
        return self._env.get_template("unavailable.html").render()
