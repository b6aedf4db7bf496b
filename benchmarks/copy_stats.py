"""What the copy benchmark measured, and the figures it reports per backend.

:mod:`benchmarks.copy_bench` runs each backend in a child process, which writes
a :class:`BackendRun` (every sample with its time, text and failed checks, the
model's load time and the child's peak memory) as JSON; :func:`summarize` turns
one run into the figures of the report and :func:`markdown` puts the backends
side by side. Pure Python, no model.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from copywriting.checks import (
    AD_LAW,
    CHECKS,
    FACTS,
    FORMAT,
    LENGTH,
    MAX_CHARS,
    MIN_CHARS,
    SIZE,
)
from copywriting.compliance import MAX_BYTES
from copywriting.similarity import distinct_2

# What became of one sample (CopyDrafter's outcomes).
DRAFT, EMPTY, DUPLICATE, ERROR = "draft", "empty", "duplicate", "error"
# The kinds of fact failure, by the start of DraftChecker's detail.
INVENTED = {
    "numbers": ("amounts not in the brief",),
    "offers": ("offers not in the brief",),
    "dates": ("dates not in the brief", "times not in the brief"),
    "products": ("products the brief is not about",),
}


@dataclass(frozen=True)
class Sample:
    """One sample of one brief.

    Attributes:
        brief: The brief's position in the brief file (from 0).
        sample: Which sample of that brief (from 0).
        seconds: Wall time of the draft (generation, tidying and checks).
        status: ``draft`` (checked), ``empty``, ``duplicate`` or ``error``.
        raw: What the backend answered (the error for ``error``).
        text: The copy after tidying.
        failures: The checks the draft failed, as (check, detail).
        tokens: Tokens the model generated, when known.
    """

    brief: int
    sample: int
    seconds: float
    status: str
    raw: str
    text: str
    failures: tuple[tuple[str, str], ...] = ()
    tokens: int | None = None

    @property
    def passes(self) -> bool:
        """A checked draft that failed no check."""
        return self.status == DRAFT and not self.failures

    def failed(self, check: str) -> bool:
        """Whether the draft failed ``check``."""
        return any(name == check for name, _ in self.failures)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sample:
        """Reads the JSON form (``dataclasses.asdict``)."""
        failures = tuple((str(c), str(d)) for c, d in data.pop("failures", ()))
        return cls(**data, failures=failures)


@dataclass(frozen=True)
class BackendRun:
    """One backend's run over the briefs, or why it did not run.

    Attributes:
        label: The column's name (``template``, ``qwen-0.5b``...).
        model: What drafted (the model folder, or ``templates``).
        samples: Every sample, in brief order.
        load_seconds: Building the backend and loading its model (with the
            imports of torch and transformers).
        rss_before_load_mib: The child's peak RSS before the model loaded.
        peak_rss_mib: The child's peak RSS over the whole run.
        settings: How the child drafted (device, sampling, threads, seed).
        skipped: Why the backend did not run (no model, the child failed).
    """

    label: str
    model: str
    samples: tuple[Sample, ...] = ()
    load_seconds: float = 0.0
    rss_before_load_mib: float = 0.0
    peak_rss_mib: float = 0.0
    settings: dict[str, Any] | None = None
    skipped: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackendRun:
        """Reads the JSON form (``dataclasses.asdict``)."""
        samples = tuple(Sample.from_dict(dict(s)) for s in data.pop("samples", ()))
        return cls(**data, samples=samples)


@dataclass(frozen=True)
class Summary:
    """The reported figures of one backend (shares in 0..1; None: nothing to count).

    ``passing`` and ``invented`` are shares of the checked drafts; ``empty`` and
    ``usable`` (drafts passing every check) of all samples.
    """

    label: str
    samples: int
    drafts: int
    empty: float | None
    duplicates: int
    errors: int
    passing: dict[str, float | None]
    invented: dict[str, float | None]
    all_checks: float | None
    usable: float | None
    mean_chars: float | None
    distinct_2: float | None
    seconds_mean: float | None
    seconds_median: float | None
    seconds_p95: float | None
    tokens_per_s: float | None
    load_seconds: float
    peak_rss_mib: float
    skipped: str | None


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q`` percentile (0 < q <= 100) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summarize(run: BackendRun) -> Summary:
    """The figures of one run."""
    samples = run.samples
    drafts = [s for s in samples if s.status == DRAFT]
    seconds = [s.seconds for s in samples]
    timed = [s for s in samples if s.tokens is not None]
    timed_seconds = sum(s.seconds for s in timed)
    return Summary(
        label=run.label,
        samples=len(samples),
        drafts=len(drafts),
        empty=_share(sum(s.status == EMPTY for s in samples), len(samples)),
        duplicates=sum(s.status == DUPLICATE for s in samples),
        errors=sum(s.status == ERROR for s in samples),
        passing={
            c: _share(sum(not d.failed(c) for d in drafts), len(drafts)) for c in CHECKS
        },
        invented={
            kind: _share(sum(_invented(d, starts) for d in drafts), len(drafts))
            for kind, starts in INVENTED.items()
        },
        all_checks=_share(sum(d.passes for d in drafts), len(drafts)),
        usable=_share(sum(d.passes for d in drafts), len(samples)),
        mean_chars=statistics.fmean(len(d.text) for d in drafts) if drafts else None,
        distinct_2=distinct_2(d.text for d in drafts) if drafts else None,
        seconds_mean=statistics.fmean(seconds) if seconds else None,
        seconds_median=statistics.median(seconds) if seconds else None,
        seconds_p95=percentile(seconds, 95),
        tokens_per_s=(
            sum(s.tokens or 0 for s in timed) / timed_seconds
            if timed and timed_seconds > 0
            else None
        ),
        load_seconds=run.load_seconds,
        peak_rss_mib=run.peak_rss_mib,
        skipped=run.skipped,
    )


def _invented(draft: Sample, starts: tuple[str, ...]) -> bool:
    return any(c == FACTS and d.startswith(starts) for c, d in draft.failures)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _num(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


_ROWS: tuple[tuple[str, Any], ...] = (
    ("samples (briefs × samples)", lambda s: str(s.samples)),
    ("checked drafts", lambda s: str(s.drafts)),
    ("empty after tidying", lambda s: _pct(s.empty)),
    (
        "near-duplicates dropped / backend errors",
        lambda s: f"{s.duplicates} / {s.errors}",
    ),
    (f"passes {AD_LAW}", lambda s: _pct(s.passing[AD_LAW])),
    (f"passes {FACTS}", lambda s: _pct(s.passing[FACTS])),
    ("… invents a number", lambda s: _pct(s.invented["numbers"])),
    ("… invents a date or time", lambda s: _pct(s.invented["dates"])),
    ("… names another product", lambda s: _pct(s.invented["products"])),
    ("… promises an offer in words", lambda s: _pct(s.invented["offers"])),
    (f"passes {FORMAT} (copy only)", lambda s: _pct(s.passing[FORMAT])),
    (
        f"passes {LENGTH} ({MIN_CHARS}-{MAX_CHARS} chars)",
        lambda s: _pct(s.passing[LENGTH]),
    ),
    (f"passes {SIZE} (≤ {MAX_BYTES} bytes sent)", lambda s: _pct(s.passing[SIZE])),
    ("**passes every check**", lambda s: f"**{_pct(s.all_checks)}**"),
    ("mean length (chars)", lambda s: _num(s.mean_chars, ".0f")),
    ("distinct-2", lambda s: _num(s.distinct_2, ".3f")),
    (
        "s per draft: mean / median / p95",
        lambda s: " / ".join(
            _num(v, ".2f") for v in (s.seconds_mean, s.seconds_median, s.seconds_p95)
        ),
    ),
    ("generated tokens/s", lambda s: _num(s.tokens_per_s, ".1f")),
    ("load (imports + model) s", lambda s: f"{s.load_seconds:.1f}"),
    ("peak RSS MiB", lambda s: f"{s.peak_rss_mib:,.0f}"),
)


def markdown(summaries: Sequence[Summary]) -> str:
    """The backends side by side, one column each (a skipped one says why)."""
    lines = [
        "| | " + " | ".join(s.label for s in summaries) + " |",
        "| --- |" + " --- |" * len(summaries),
    ]
    for row, (name, cell) in enumerate(_ROWS):
        cells = [
            (s.skipped if row == 0 else "") if s.skipped else cell(s) for s in summaries
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def examples(run: BackendRun, titles: Sequence[str]) -> list[str]:
    """Markdown items: the first passing draft and the first failing one.

    Args:
        run: The backend's run.
        titles: Each brief's label, by position in the brief file.
    """
    items = []
    passing = next((s for s in run.samples if s.passes), None)
    failing = next((s for s in run.samples if s.status == DRAFT and s.failures), None)
    if passing is not None:
        items.append(f"- passes ({titles[passing.brief]}): {_quoted(passing.text)}")
    if failing is not None:
        why = "; ".join(f"{c}: {d}" for c, d in failing.failures)
        items.append(
            f"- fails ({titles[failing.brief]}): {_quoted(failing.text)} — {why}"
        )
    empty = next((s for s in run.samples if s.status == EMPTY), None)
    if empty is not None:
        items.append(f"- empty ({titles[empty.brief]}): raw {_quoted(empty.raw)}")
    return items


def _quoted(text: str) -> str:
    return "“" + " ".join(text.split()) + "”"
