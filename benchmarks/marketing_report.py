"""Click-through and conversion per campaign and per variant (``make report``).

Reads the marketing store (``AURORA_DATABASE_URL``, SQLite in ``.runtime/`` by
default), prints two tables and writes a bar chart as PNG. Click-through is
clicks / impressions and conversion purchases / impressions, both counted on
the logged events: a click is a tracked link followed or a follow-up question
about the item, a purchase an order reported by the shop or a request to buy a
recommended item.

Usage: ``python -m benchmarks.marketing_report [--database-url URL] [--png FILE]``
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from marketing.settings import ROOT, load_settings
from marketing.store import CLICK, IMPRESSION, PURCHASE, MarketingStore

DEFAULT_PNG = ROOT / ".runtime" / "marketing_report.png"
# How recommendations without a campaign are labelled.
NO_CAMPAIGN = "(recommendation)"


@dataclass(frozen=True)
class Effect:
    """Counts and rates of one campaign or variant."""

    name: str
    impressions: int
    clicks: int
    purchases: int

    @property
    def ctr(self) -> float:
        """Clicks per impression."""
        return self.clicks / self.impressions if self.impressions else 0.0

    @property
    def conversion(self) -> float:
        """Purchases per impression."""
        return self.purchases / self.impressions if self.impressions else 0.0


def summarise(
    counts: Iterable[tuple[str | None, str, str, int]], by: str
) -> list[Effect]:
    """Effects per ``campaign`` or per ``variant``, most impressions first.

    Args:
        counts: ``(campaign, variant, event, count)`` as the store reports them.
        by: ``campaign`` or ``variant``.
    """
    if by not in ("campaign", "variant"):
        raise ValueError(f"by must be 'campaign' or 'variant', got {by!r}")
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for campaign, variant, event, count in counts:
        key = (campaign or NO_CAMPAIGN) if by == "campaign" else variant
        totals[key][event] += count
    effects = [
        Effect(name, t[IMPRESSION], t[CLICK], t[PURCHASE]) for name, t in totals.items()
    ]
    return sorted(effects, key=lambda e: (-e.impressions, e.name))


def table(effects: list[Effect], title: str) -> str:
    """A Markdown table of the effects."""
    lines = [
        f"| {title} | impressions | clicks | purchases | CTR | conversion |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {e.name} | {e.impressions} | {e.clicks} | {e.purchases} | "
        f"{e.ctr:.1%} | {e.conversion:.1%} |"
        for e in effects
    ]
    return "\n".join(lines)


def chart(by_campaign: list[Effect], by_variant: list[Effect], png: Path) -> Path:
    """Writes grouped bars of CTR and conversion per campaign and per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for axis, effects, title in (
        (axes[0], by_campaign, "per campaign"),
        (axes[1], by_variant, "per variant"),
    ):
        positions = range(len(effects))
        axis.bar(
            [p - 0.2 for p in positions], [e.ctr for e in effects], 0.4, label="CTR"
        )
        axis.bar(
            [p + 0.2 for p in positions],
            [e.conversion for e in effects],
            0.4,
            label="conversion",
        )
        axis.set_xticks(list(positions))
        axis.set_xticklabels([e.name for e in effects], rotation=30, ha="right")
        axis.set_title(f"Click-through and conversion {title}")
        axis.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        axis.legend()
    figure.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png, dpi=120)
    plt.close(figure)
    return png


def main(argv: list[str] | None = None) -> int:
    """Prints the report and writes the chart; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL of the store")
    parser.add_argument("--png", type=Path, default=DEFAULT_PNG)
    args = parser.parse_args(argv)
    url = args.database_url or load_settings().database_url
    store = MarketingStore.from_url(url)
    try:
        counts = store.effect_counts()
    finally:
        store.engine.dispose()
    if not counts:
        print(f"No impressions logged yet in {url}.")
        return 0
    by_campaign = summarise(counts, "campaign")
    by_variant = summarise(counts, "variant")
    print(table(by_campaign, "campaign"))
    print()
    print(table(by_variant, "variant"))
    print(f"\nChart: {chart(by_campaign, by_variant, args.png)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
