"""A/B tests: intervals, a two-proportion test per variant, and when to call it.

Proportions (click-through, conversion) get Wilson 95% intervals, which stay
inside [0, 1] and behave for small counts where the normal approximation does
not. Revenue per recipient gets a Student-t interval over recipients (most of
whom spent nothing). Each variant is tested against the control (the first
declared) with the pooled two-proportion z-test; with several variants the level
is split between them (Bonferroni), so three variants do not make a false winner
three times as likely.

A winner is named only when the test is powered: every arm has at least
:data:`MIN_PER_ARM` trials, and as many as a test at alpha 0.05 needs to detect
the observed difference with 80% power. Until then the verdict says "no winner
yet" and how many more recipients it needs, because a marketer peeking at an
early, lucky difference is the usual way A/B tests go wrong. Pure: numbers in,
dataclasses out (scipy for the distributions); no Rasa.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from scipy import stats

ALPHA = 0.05
POWER = 0.8
# Below this many trials per arm no call is made, whatever the p-value: the
# normal approximation of the z-test is poor and early differences are noise.
MIN_PER_ARM = 100
CONVERSION, CLICK_THROUGH = "conversion", "click-through"


@dataclass(frozen=True)
class Interval:
    """A 95% confidence interval."""

    low: float
    high: float


@dataclass(frozen=True)
class Arm:
    """One variant's counts for the tested metric."""

    name: str
    trials: int
    successes: int

    def __post_init__(self) -> None:
        # Inconsistent counts (rows purged on one side, a --since window that
        # cuts sends but not orders) must not break a report: 0 <= k <= n.
        object.__setattr__(self, "trials", max(0, self.trials))
        object.__setattr__(self, "successes", max(0, min(self.successes, self.trials)))

    @property
    def rate(self) -> float:
        """Successes per trial (0 without trials)."""
        return self.successes / self.trials if self.trials else 0.0


@dataclass(frozen=True)
class ZTest:
    """A pooled two-proportion z-test of a variant against the control."""

    z: float
    p_value: float


@dataclass(frozen=True)
class Comparison:
    """The A/B verdict of a campaign with several variants."""

    campaign: str
    # The variant compared against the others (the first declared).
    control: str
    # Two-proportion test of conversion (else click-through) per other variant:
    # the two-sided p-value.
    p_values: dict[str, float]
    # The winning variant, or None: "no winner yet".
    winner: str | None
    # The verdict in words: the winner, or why there is none yet.
    verdict: str
    # What was tested: CONVERSION, or CLICK_THROUGH while nobody bought.
    metric: str = CONVERSION
    # z of each other variant (positive: its rate is above the control's).
    z_scores: dict[str, float] = field(default_factory=dict)
    # Trials per arm the test needs for the observed difference at 80% power
    # (None: no difference observed, or too few trials to say).
    needed_per_arm: int | None = None


def wilson_interval(successes: int, trials: int) -> Interval:
    """The Wilson 95% interval of ``successes / trials`` ([0, 1] without trials)."""
    if trials <= 0:
        return Interval(0.0, 1.0)
    # Inconsistent counts (rows purged on one side) must not crash a report.
    k = max(0, min(successes, trials))
    ci = stats.binomtest(k, trials).proportion_ci(
        confidence_level=0.95, method="wilson"
    )
    return Interval(float(ci.low), float(ci.high))


def mean_interval(amounts: Sequence[float], n: int) -> Interval | None:
    """The Student-t 95% interval of the mean over ``n`` recipients.

    Args:
        amounts: What each paying recipient spent; the other ``n - len(amounts)``
            recipients spent nothing.
        n: Recipients.

    Returns:
        The interval (its low end not below 0, revenue cannot be negative), or
        None with fewer than two recipients.
    """
    if n < 2:
        return None
    total = math.fsum(amounts)
    mean = total / n
    squares = math.fsum(a * a for a in amounts)
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(variance / n)
    return Interval(max(0.0, mean - half), mean + half)


def two_proportion_test(control: Arm, variant: Arm) -> ZTest:
    """The pooled two-proportion z-test of ``variant`` against ``control``.

    Returns:
        z (positive when the variant's rate is higher) and the two-sided p-value;
        z 0 and p 1 when the pooled rate leaves no variance (all or nothing).
    """
    n1, n2 = control.trials, variant.trials
    if n1 <= 0 or n2 <= 0:
        return ZTest(0.0, 1.0)
    pooled = (control.successes + variant.successes) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return ZTest(0.0, 1.0)
    z = (variant.rate - control.rate) / se
    return ZTest(z, float(2 * stats.norm.sf(abs(z))))


def sample_size_per_arm(
    p1: float, p2: float, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Trials per arm a two-sided test needs to tell ``p1`` from ``p2``.

    The usual normal-approximation formula (pooled variance under the null,
    unpooled under the alternative). None when the rates are equal.
    """
    if p1 == p2:
        return None
    z_alpha = float(stats.norm.ppf(1 - alpha / 2))
    z_beta = float(stats.norm.ppf(power))
    mean = (p1 + p2) / 2
    spread = (
        z_alpha * math.sqrt(2 * mean * (1 - mean))
        + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    ) ** 2
    return math.ceil(spread / (p1 - p2) ** 2)


def compare(
    campaign: str,
    arms: Sequence[Arm],
    metric: str,
    alpha: float = ALPHA,
    power: float = POWER,
    min_per_arm: int = MIN_PER_ARM,
) -> Comparison:
    """Tests each arm against the first (the control) and gives the verdict.

    Args:
        campaign: The campaign, for the result.
        arms: The control first, then the other variants (two or more in all).
        metric: What the arms count (:data:`CONVERSION` or :data:`CLICK_THROUGH`).
        alpha: The level of the whole comparison, split between the variants.
        power: The power a call requires for the observed difference.
        min_per_arm: The fewest trials per arm before any call.

    Raises:
        ValueError: Fewer than two arms.
    """
    if len(arms) < 2:
        raise ValueError("an A/B comparison needs two arms or more")
    control, others = arms[0], arms[1:]
    level = alpha / len(others)
    tests = {arm.name: two_proportion_test(control, arm) for arm in others}
    result = Comparison(
        campaign=campaign,
        control=control.name,
        p_values={name: t.p_value for name, t in tests.items()},
        winner=None,
        verdict="",
        metric=metric,
        z_scores={name: t.z for name, t in tests.items()},
    )
    fewest = min(arms, key=lambda a: a.trials)
    if fewest.trials < min_per_arm:
        return _no_winner(
            result,
            f"{fewest.name} has {fewest.trials} of the {min_per_arm} "
            f"{_unit(metric)} per arm needed before any call",
        )
    significant = [a for a in others if tests[a.name].p_value < level]
    better = [a for a in significant if tests[a.name].z > 0]
    if better:
        leader = max(better, key=lambda a: a.rate)
        rival, p_value = control, tests[leader.name].p_value
    elif len(significant) == len(others):
        # Every variant did significantly worse: the control wins.
        leader, rival = control, max(others, key=lambda a: a.rate)
        p_value = max(t.p_value for t in tests.values())
    else:
        return _underpowered(result, control, others, level, power)
    needed = sample_size_per_arm(leader.rate, rival.rate, level, power) or 0
    have = min(leader.trials, rival.trials)
    if have < needed:
        return _no_winner(
            result,
            f"{leader.name} leads, but {_power_words(needed, have, power, metric)}",
            needed,
        )
    return replace(
        result,
        winner=leader.name,
        needed_per_arm=needed,
        verdict=(
            f"{leader.name} wins on {metric}: {leader.rate:.2%} against "
            f"{rival.rate:.2%} for {rival.name} (p={p_value:.3g})"
        ),
    )


def _underpowered(
    result: Comparison,
    control: Arm,
    others: Sequence[Arm],
    level: float,
    power: float,
) -> Comparison:
    needs = [sample_size_per_arm(control.rate, a.rate, level, power) for a in others]
    known = [n for n in needs if n is not None]
    if not known:
        return _no_winner(result, f"no difference in {result.metric} observed")
    needed = min(known)
    have = min(control.trials, *(a.trials for a in others))
    return _no_winner(
        result,
        f"no significant difference; "
        f"{_power_words(needed, have, power, result.metric)}",
        needed,
    )


def _power_words(needed: int, have: int, power: float, metric: str) -> str:
    return (
        f"detecting the observed difference with {power:.0%} power needs about "
        f"{needed} {_unit(metric)} per arm ({max(needed - have, 0)} more)"
    )


def _unit(metric: str) -> str:
    """What the metric's trials are: recipients, or impressions for click-through."""
    return "impressions" if metric == CLICK_THROUGH else "recipients"


def _no_winner(result: Comparison, why: str, needed: int | None = None) -> Comparison:
    return replace(result, verdict=f"no winner yet: {why}", needed_per_arm=needed)
