"""The dashboard's charts, drawn on the server as SVG (matplotlib, no JavaScript).

Each function returns a ``data:image/svg+xml`` URI for an ``<img>``: nothing is
fetched at run time, no CDN, and each chart's SVG ids stay inside its image.
Text is left as text (``svg.fonttype: none``) so the browser's fonts draw it.
Figures are built with :class:`matplotlib.figure.Figure`, never pyplot, so no
GUI backend and no global figure registry; rc settings are global in
matplotlib, hence one lock around each drawing.
"""

from __future__ import annotations

import base64
import io
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from itertools import accumulate

import matplotlib
from matplotlib.axes import Axes
from matplotlib.dates import DateFormatter, DayLocator
from matplotlib.figure import Figure

from marketing.lead_funnel import FunnelStep
from marketing.report import CampaignReport, DailyPoint
from marketing.sentiment_watch import DayAssessment

# matplotlib's rcParams are process-wide; drawings run in worker threads.
_RC_LOCK = threading.Lock()
RC = {
    "svg.fonttype": "none",
    # Stable ids: the same numbers draw the same SVG.
    "svg.hashsalt": "aurora-dashboard",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
ALERT_COLOUR = "#c0392b"
ONE_DAY = timedelta(days=1)


@contextmanager
def _style() -> Iterator[None]:
    """The chart settings, held while one chart is built and saved."""
    with _RC_LOCK, matplotlib.rc_context(RC), warnings.catch_warnings():
        # Names outside matplotlib's font (CJK) are drawn by the browser anyway.
        warnings.simplefilter("ignore", UserWarning)
        yield


def _svg(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    # matplotlib quotes the generic family, which makes it a (missing) family
    # name to the browser: unquoted, the browser's own sans-serif draws it.
    svg = buffer.getvalue().replace(b"'sans-serif'", b"sans-serif")
    return f"data:image/svg+xml;base64,{base64.b64encode(svg).decode('ascii')}"


def _days_axis(ax: Axes, days: int) -> None:
    """Day ticks (``MM-DD``), at most about eight of them."""
    ax.xaxis.set_major_locator(DayLocator(interval=max(1, days // 8)))
    ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def campaign_over_time(report: CampaignReport) -> str:
    """CTR, conversion, cumulative revenue and ROI per day, a line per variant."""
    with _style():
        figure = Figure(figsize=(9, 4.6))
        axes = figure.subplots(2, 2, sharex=True)
        costs = {v.variant: v.cost for v in report.variants}
        for variant in sorted({p.variant for p in report.daily}):
            points: list[DailyPoint] = sorted(
                (p for p in report.daily if p.variant == variant), key=lambda p: p.day
            )
            days = [p.day for p in points]
            revenue = list(accumulate(p.revenue for p in points))
            cost = costs.get(variant, Decimal(0))
            axes[0][0].plot(
                days, [_ratio(p.clicks, p.impressions) for p in points], label=variant
            )
            axes[0][1].plot(
                days,
                [_ratio(p.conversions, p.impressions) for p in points],
                label=variant,
            )
            axes[1][0].plot(days, [float(r) for r in revenue], label=variant)
            if cost:
                axes[1][1].plot(days, [float((r - cost) / cost) for r in revenue])
        titles = (
            ("CTR per day", "conversions / impressions per day"),
            (f"revenue to date ({report.total.currency})", "ROI to date"),
        )
        for row, row_titles in zip(axes, titles, strict=True):
            for ax, title in zip(row, row_titles, strict=True):
                ax.set_title(title)
                ax.grid(alpha=0.3)
        axes[1][1].axhline(0, color="grey", linewidth=0.8)
        axes[0][0].legend(loc="best")
        spanned = sorted({p.day for p in report.daily})
        if len(spanned) == 1:
            # A campaign's first day alone: matplotlib would widen the axis to
            # years of day ticks (a 4 MB chart drawn for 20 s).
            axes[1][0].set_xlim(spanned[0] - ONE_DAY, spanned[0] + ONE_DAY)
        _days_axis(axes[1][0], len(spanned))
        figure.autofmt_xdate()
        figure.suptitle(report.campaign)
        return _svg(figure)


def campaign_variants(report: CampaignReport) -> str:
    """Per variant: CTR and conversion with 95% intervals, revenue against cost."""
    with _style():
        figure = Figure(figsize=(9, 2.8))
        rates, money = figure.subplots(1, 2)
        names = [v.variant for v in report.variants]
        spots = range(len(names))
        for offset, label, values, intervals in (
            (
                -0.2,
                "CTR",
                [v.ctr for v in report.variants],
                [v.ctr_interval for v in report.variants],
            ),
            (
                0.2,
                "conversion",
                [v.conversion_rate for v in report.variants],
                [v.conversion_interval for v in report.variants],
            ),
        ):
            pairs = list(zip(values, intervals, strict=True))
            errors = [
                [max(0.0, value - i.low) for value, i in pairs],
                [max(0.0, i.high - value) for value, i in pairs],
            ]
            rates.bar(
                [s + offset for s in spots],
                values,
                0.4,
                yerr=errors,
                capsize=3,
                label=label,
            )
        rates.set_xticks(list(spots), names)
        rates.set_title("rates per variant (95% intervals)")
        rates.legend(loc="best")
        money.bar(
            [s - 0.2 for s in spots],
            [float(v.revenue) for v in report.variants],
            0.4,
            label="revenue",
        )
        money.bar(
            [s + 0.2 for s in spots],
            [float(v.cost) for v in report.variants],
            0.4,
            label="cost",
        )
        money.set_xticks(list(spots), names)
        money.set_title(f"revenue and cost ({report.total.currency})")
        money.legend(loc="best")
        return _svg(figure)


def segment_sizes(sizes: dict[str, int]) -> str:
    """A horizontal bar per segment."""
    with _style():
        figure = Figure(figsize=(5, 0.5 + 0.35 * max(1, len(sizes))))
        ax = figure.subplots()
        names = list(sizes)[::-1]
        ax.barh(names, [sizes[n] for n in names], color="#2e86c1")
        ax.set_title("followers per segment")
        return _svg(figure)


def funnel(steps: Sequence[FunnelStep]) -> str:
    """The funnel's steps as shrinking bars, widest on top."""
    with _style():
        figure = Figure(figsize=(5, 2.4))
        ax = figure.subplots()
        ordered = list(steps)[::-1]
        ax.barh([s.label for s in ordered], [s.count for s in ordered], color="#27ae60")
        for index, step in enumerate(ordered):
            ax.annotate(
                str(step.count),
                (step.count, index),
                xytext=(3, -3),
                textcoords="offset points",
            )
        ax.set_title("lead funnel (followers)")
        return _svg(figure)


def negative_share(days: Sequence[DayAssessment]) -> str:
    """Negative share per day, the alert threshold dashed, alert days marked."""
    with _style():
        figure = Figure(figsize=(9, 2.8))
        ax = figure.subplots()
        dates = [d.day for d in days]
        # A day nobody wrote has no share: a gap, not a calm 0%.
        shares = [d.share if d.messages else float("nan") for d in days]
        ax.plot(dates, shares, marker=".", label="negative share")
        ax.plot(
            dates,
            [d.threshold if d.threshold is not None else float("nan") for d in days],
            linestyle="--",
            color=ALERT_COLOUR,
            label="alert line",
        )
        alerts = [d for d in days if d.alert]
        if alerts:
            ax.scatter(
                [d.day for d in alerts],
                [d.share for d in alerts],
                s=60,
                color=ALERT_COLOUR,
                zorder=3,
                label="舆情预警 alert",
            )
        ax.set_ylim(bottom=0)
        if dates:
            # Without a single share (nobody wrote) matplotlib would span decades.
            ax.set_xlim(min(dates), max(dates))
        ax.set_title("share of negative messages per day")
        ax.legend(loc="upper left")
        ax.grid(alpha=0.3)
        _days_axis(ax, len(days))
        figure.autofmt_xdate()
        return _svg(figure)
