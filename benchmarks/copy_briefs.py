"""The copy benchmark's fixed briefs: written once from the catalog, then read.

``benchmarks/copy_briefs.yml`` holds the briefs ``make bench-copy`` drafts from,
as :class:`copywriting.brief.CopyBrief` fields. They were made by
:func:`copywriting.brief.brief_for`, as ``aurora-marketing copy`` makes them:
the variants of ``data/campaigns.yml``, and one made-up campaign per entry of
:data:`SPECS` that pushes a product, catalog campaign or promotion of
``data/catalog.yml`` on a given day (which offers are running) to a segment of
``data/segments.yml`` (which tone). The benchmark reads the committed file only,
so its figures stay comparable when the catalog changes; ``--write`` makes it
again (review the diff: every figure recorded before was drafted from the old
one).

Usage: ``python -m benchmarks.copy_briefs --write``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from catalog.loader import load_catalog
from catalog.model import Catalog
from copywriting.brief import CAMPAIGN, PRODUCT, PROMOTION, CopyBrief, brief_for
from copywriting.request import TONES
from marketing.campaigns import load_campaigns, parse_campaign
from marketing.segments import Segment, load_segments
from marketing.settings import (
    DEFAULT_CAMPAIGNS_PATH,
    DEFAULT_SEGMENTS_PATH,
    ROOT,
)

BRIEFS_PATH = ROOT / "benchmarks" / "copy_briefs.yml"
KINDS = (PRODUCT, CAMPAIGN, PROMOTION)
MIN_BRIEFS = 40
_HEADER = """\
# The briefs `make bench-copy` drafts from (benchmarks/copy_bench.py), fixed so that
# its figures stay comparable. Written by `python -m benchmarks.copy_briefs --write`
# from data/catalog.yml, data/campaigns.yml and data/segments.yml; each entry is a
# copywriting.brief.CopyBrief. Do not edit by hand: change SPECS and write it again.
"""

# The days the briefs are written on: which offers of the catalog are running.
MANY_OFFERS = date(2026, 11, 20)  # member day, coupon, trade-in, earbuds, education
DOUBLE12 = date(2026, 12, 5)  # 双12, trade-in, education
QUIET = date(2027, 1, 15)  # education only
X5_LAUNCH = date(2026, 9, 20)  # X5 launch gift, education
# Segments by tone: 热情 (keen), 亲切 (neutral), 温和 (unhappy).
KEEN, CALM = "hot-leads", "unhappy-recently"
BUYERS, CURIOUS, DORMANT = "buyers", "curious-non-buyers", "dormant-30d"
ACTIVE, EARBUDS, SIGNUPS = "active-48h", "earbud-fans", "double12-signups"


@dataclass(frozen=True)
class Spec:
    """One made-up campaign to brief.

    Attributes:
        subject: A product, catalog campaign or promotion id of the catalog.
        today: The day the brief is written (which offers are running).
        segment: The segment it is for (the tone).
        angle: The variant's own message (the brief's ``本条要点``), if any.
    """

    subject: str
    today: date
    segment: str
    angle: str = ""


SPECS = (
    # Products: with and without an original price, none to four offers.
    Spec("ph-x5-ultra", MANY_OFFERS, KEEN, "年度影像旗舰，夜景人像都清晰"),
    Spec("ph-x5-pro", DOUBLE12, CURIOUS),
    Spec("ph-x5", X5_LAUNCH, CALM, "轻薄机身，单手握持舒适"),
    Spec("ph-nova12-pro", QUIET, KEEN),
    Spec("ph-nova12", MANY_OFFERS, ACTIVE),
    Spec("ph-nova12-se", DOUBLE12, CALM),
    Spec("ph-a3", QUIET, KEEN, "长辈和学生的备用机"),
    Spec("ph-flip2", DOUBLE12, BUYERS),
    Spec("au-buds-air3", MANY_OFFERS, CALM),
    Spec("au-buds-lite", QUIET, KEEN),
    Spec("au-freeloop", X5_LAUNCH, EARBUDS, "跑步骑行不掉耳"),
    Spec("au-studio-max", DOUBLE12, CALM),
    Spec("wt-watch4-pro", MANY_OFFERS, KEEN, "户外运动和健康监测"),
    Spec("wt-band8", QUIET, DORMANT),
    Spec("wt-kids3", DOUBLE12, CALM),
    Spec("tb-pad6-pro", MANY_OFFERS, KEEN),
    Spec("tb-pad-mini2", QUIET, CURIOUS, "随手带走的阅读平板"),
    Spec("lp-book16-pro", DOUBLE12, CALM),
    Spec("lp-book-air13", QUIET, KEEN),
    Spec("sp-home-max", MANY_OFFERS, BUYERS),
    Spec("sp-go", QUIET, CALM, "露营野餐随身听"),
    Spec("ch-gan65", DOUBLE12, KEEN),
    Spec("ch-powerbank20k", MANY_OFFERS, DORMANT),
    Spec("ac-car-mount", QUIET, CALM),
    # Catalog campaigns: sign-ups, points, referrals, store events.
    Spec("camp-new-tester", MANY_OFFERS, KEEN, "名额有限，分享真实体验"),
    Spec("camp-new-tester", MANY_OFFERS, CALM),
    Spec("camp-double12-lottery", MANY_OFFERS, CURIOUS),
    Spec("camp-points-double", MANY_OFFERS, BUYERS, "积分换耳机和充电器"),
    Spec("camp-referral", DOUBLE12, KEEN),
    Spec("camp-referral", QUIET, CALM, "邀请好友一起省"),
    Spec("camp-store-tasting", DOUBLE12, ACTIVE),
    Spec("camp-summer-run", X5_LAUNCH, CALM),
    Spec("camp-store-tasting", DOUBLE12, KEEN, "周末到店体验新品"),
    # Promotions: discounts with and without amounts, bundles, trade-in, gifts.
    Spec("promo-double12", DOUBLE12, KEEN, "年终大促最后一周"),
    Spec("promo-double12", DOUBLE12, CALM),
    Spec("promo-member-day-nov", MANY_OFFERS, BUYERS),
    Spec("promo-trade-in", MANY_OFFERS, KEEN),
    Spec("promo-trade-in", DOUBLE12, CALM, "旧机估价回收，换新更省"),
    Spec("promo-earbuds-half", MANY_OFFERS, EARBUDS),
    Spec("promo-edu", QUIET, KEEN, "开学季换新"),
    Spec("promo-edu", QUIET, CALM),
    Spec("promo-coupon-1000-100", MANY_OFFERS, CURIOUS),
    Spec("promo-double11", X5_LAUNCH, DORMANT),
    Spec("promo-x5-launch-gift", X5_LAUNCH, CALM),
)
# The variants of data/campaigns.yml, each for a segment on a day.
REAL = {
    ("double12-reminder", "plain"): (SIGNUPS, MANY_OFFERS),
    ("double12-reminder", "urgent"): (ACTIVE, MANY_OFFERS),
    ("buds-pro2-launch", "text"): (EARBUDS, MANY_OFFERS),
    ("buds-pro2-launch", "card"): (CALM, DOUBLE12),
}


class BriefSetError(ValueError):
    """The brief file is missing, unreadable or not a usable benchmark set."""


def spec_brief(
    spec: Spec, index: int, catalog: Catalog, segments: dict[str, Segment]
) -> CopyBrief:
    """The brief of one made-up campaign (``bench-NN-subject``, variant ``A``)."""
    key = "item_id" if catalog.product(spec.subject) else "promotes"
    campaign = parse_campaign(
        {
            "id": f"bench-{index:02d}-{spec.subject}",
            "title": _title(spec.subject, catalog),
            "url": "https://shop.aurora-demo.cn/bench",
            key: spec.subject,
            "variants": [
                {"name": "A", "message": {"text": f"{spec.angle} {{link}}".strip()}}
            ],
        }
    )
    return brief_for(
        campaign, campaign.variants[0], catalog, spec.today, segments[spec.segment]
    )


def _title(subject: str, catalog: Catalog) -> str:
    product = catalog.product(subject)
    if product is not None:
        return product.name
    entry = catalog.campaign(subject) or catalog.promotion(subject)
    if entry is None:
        raise BriefSetError(f"{subject} is not in the catalog")
    return entry.title


def build_briefs(
    catalog: Catalog,
    segments: dict[str, Segment],
    campaigns_path: Path | str = DEFAULT_CAMPAIGNS_PATH,
) -> list[CopyBrief]:
    """Every brief: the real campaigns' variants of :data:`REAL`, then :data:`SPECS`."""
    campaigns = load_campaigns(campaigns_path)
    briefs = []
    for (campaign_id, name), (segment, today) in REAL.items():
        campaign = campaigns[campaign_id]
        variant = next(v for v in campaign.variants if v.name == name)
        briefs.append(brief_for(campaign, variant, catalog, today, segments[segment]))
    briefs += [
        spec_brief(spec, i, catalog, segments) for i, spec in enumerate(SPECS, 1)
    ]
    return briefs


def dump_briefs(briefs: Sequence[CopyBrief]) -> str:
    """The file's text: the header, then the briefs as YAML."""
    entries = [{**asdict(b), "facts": list(b.facts)} for b in briefs]
    body = yaml.safe_dump(
        {"briefs": entries}, allow_unicode=True, sort_keys=False, width=1000
    )
    return _HEADER + body


def load_briefs(path: Path | str = BRIEFS_PATH) -> list[CopyBrief]:
    """The briefs of ``path``, checked to make a benchmark set.

    Raises:
        BriefSetError: The file is missing or unreadable, an entry is no brief,
            or the set has fewer than :data:`MIN_BRIEFS` briefs or misses a
            kind or tone.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise BriefSetError(f"cannot read {path}: {e}") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("briefs"), list):
        raise BriefSetError(f"{path}: expected a mapping with a list of briefs")
    briefs = [
        _brief(entry, f"{path}: brief {i}") for i, entry in enumerate(raw["briefs"], 1)
    ]
    _validate(briefs, str(path))
    return briefs


def _brief(entry: Any, where: str) -> CopyBrief:
    if not isinstance(entry, dict):
        raise BriefSetError(f"{where}: expected a mapping")
    facts = entry.get("facts")
    if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
        raise BriefSetError(f"{where}: facts must be a list of strings")
    try:
        brief = CopyBrief(**{**entry, "facts": tuple(facts)})
    except TypeError as e:
        raise BriefSetError(f"{where}: {e}") from e
    if brief.kind not in KINDS:
        raise BriefSetError(f"{where}: kind {brief.kind!r}; use one of {KINDS}")
    if brief.tone not in TONES.values():
        raise BriefSetError(f"{where}: tone {brief.tone!r}")
    return brief


def _validate(briefs: Sequence[CopyBrief], where: str) -> None:
    if len(briefs) < MIN_BRIEFS:
        raise BriefSetError(f"{where}: {len(briefs)} briefs; at least {MIN_BRIEFS}")
    keys = [(b.campaign, b.variant) for b in briefs]
    if len(set(keys)) != len(keys):
        raise BriefSetError(f"{where}: a campaign and variant repeat")
    for name, wanted, present in (
        ("kind", KINDS, {b.kind for b in briefs}),
        ("tone", tuple(TONES.values()), {b.tone for b in briefs}),
    ):
        missing = [w for w in wanted if w not in present]
        if missing:
            raise BriefSetError(f"{where}: no brief of {name} {'、'.join(missing)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Prints the briefs, or writes them with ``--write``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {BRIEFS_PATH}")
    args = parser.parse_args(argv)
    briefs = build_briefs(load_catalog(), load_segments(DEFAULT_SEGMENTS_PATH))
    _validate(briefs, "SPECS")
    text = dump_briefs(briefs)
    if args.write:
        BRIEFS_PATH.write_text(text, encoding="utf-8")
        print(f"{len(briefs)} briefs written to {BRIEFS_PATH}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
