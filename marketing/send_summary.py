"""What a campaign send did, by outcome and channel, and how to say it.

The CLI prints :func:`summary_lines`; the scheduler keeps :func:`headline` as
the run's detail. No Rasa.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

STATUS_ORDER = ("sent", "failed", "skipped", "pending", "sending")


@dataclass
class SendSummary:
    """What one run of a send did, and where the campaign stands after it."""

    campaign: str
    # Rows finished by this run, by (status, channel).
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    # WeChat's errcodes of the failed and skipped rows of this run.
    errcodes: Counter[int] = field(default_factory=Counter)
    # Recipients not planned, by reason (opted out, no consent...).
    not_planned: Counter[str] = field(default_factory=Counter)
    # Recipients dealt with by an earlier run (sent, failed or skipped).
    done_before: int = 0
    # Followers whose row a crashed run left `sending`: maybe delivered.
    uncertain: list[str] = field(default_factory=list)
    # Rows still pending after this run (quota reached or stopped).
    pending: int = 0
    quota_reached: bool = False
    stopped: bool = False
    # The campaign's rows after the run, by (status, channel).
    totals: Counter[tuple[str, str]] = field(default_factory=Counter)


def _by_status(counts: Counter[tuple[str, str]]) -> str:
    parts = []
    statuses = sorted({s for s, _ in counts}, key=_status_rank)
    for status in statuses:
        channels = {c: n for (s, c), n in sorted(counts.items()) if s == status and n}
        total = sum(channels.values())
        detail = ", ".join(f"{c} {n}" for c, n in channels.items())
        parts.append(f"{status} {total} ({detail})")
    return "; ".join(parts) or "nothing"


def _status_rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def headline(summary: SendSummary) -> str:
    """One line: this run's outcomes and what is left."""
    line = f"{summary.campaign}: {_by_status(summary.outcomes)}"
    if summary.quota_reached:
        line += f"; daily quota reached (45009), {summary.pending} pending"
    elif summary.stopped:
        line += f"; stopped, {summary.pending} pending"
    if summary.uncertain:
        line += f"; {len(summary.uncertain)} uncertain"
    return line


def summary_lines(summary: SendSummary) -> list[str]:
    """The summary an operator reads after a send, one fact a line."""
    lines = [f"This run: {_by_status(summary.outcomes)}"]
    if summary.errcodes:
        codes = ", ".join(f"{c} x{n}" for c, n in sorted(summary.errcodes.items()))
        lines.append(f"WeChat errcodes: {codes}")
    if summary.done_before:
        lines.append(f"Already dealt with by an earlier run: {summary.done_before}")
    for reason, n in sorted(summary.not_planned.items()):
        lines.append(f"Not sent ({reason}): {n}")
    if summary.quota_reached:
        lines.append(
            f"WeChat's daily API quota is reached (45009): {summary.pending} left "
            "pending; run the same command again tomorrow to resume."
        )
    elif summary.stopped:
        lines.append(f"Stopped early: {summary.pending} left pending.")
    if summary.uncertain:
        shown = ", ".join(summary.uncertain[:5])
        more = " ..." if len(summary.uncertain) > 5 else ""
        lines.append(
            f"Uncertain: {len(summary.uncertain)} ({shown}{more}): an earlier send "
            "died during their API call, so WeChat may have delivered it. They are "
            "not sent again; --retry-uncertain sends them (a duplicate is possible)."
        )
    lines.append(f"Campaign so far: {_by_status(summary.totals)}")
    return lines
